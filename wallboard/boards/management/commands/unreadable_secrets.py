"""List the stored secrets (tenant tokens, API keys) that no key in FIELD_ENCRYPTION_KEYS decrypts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from wallboard.boards.crypto import unreadable_rows


class Command(BaseCommand):
    help = (
        "List every row holding a secret that none of the configured keys decrypts (SECRET_KEY or "
        "FIELD_ENCRYPTION_KEYS changed without rotate_tokens, a database restored elsewhere). "
        "Exits 1 when there is one: put the old key back, or type those secrets again in admin."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = unreadable_rows()
        if not rows:
            self.stdout.write("all stored secrets can be read")
            return
        for row in rows:
            self.stdout.write(str(row))
        self.stderr.write(
            f"{len(rows)} row(s) hold secrets no configured key can read: put the old key back in "
            "FIELD_ENCRYPTION_KEYS (then run rotate_tokens), or type them again in admin."
        )
        # A plain exit status rather than CommandError: the list above is the answer, not a traceback.
        raise SystemExit(1)
