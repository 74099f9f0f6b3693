"""Compile every locale/<lang>/LC_MESSAGES/*.po into its .mo with polib (no GNU gettext needed).

Run after editing a .po: `.venv/bin/python locale/compile.py`. The .mo files are committed, so a
fresh machine, CI and the Docker image need no gettext tools; tests/test_i18n_catalogues.py fails
when a .mo is older than its .po's content.
"""

from __future__ import annotations

from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent


def compile_all() -> list[Path]:
    """Write each catalogue's .mo next to its .po; returns the .mo paths."""
    written = []
    for po_path in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_all():
        print(path.relative_to(LOCALE_DIR.parent))
