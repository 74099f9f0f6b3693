"""Browser tests that use the Django ORM next to Playwright's sync API (the admin's own pages)."""

from __future__ import annotations

import os

import pytest

# Installed before any page script runs: the CSP directives a page violated, for the asserts.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(e.violatedDirective));
"""


@pytest.fixture(scope="module", autouse=True)
def database_before_browser(django_db_setup, django_db_blocker):
    """The test database before Chromium: Playwright's sync API keeps an event loop in this thread.

    Django refuses ORM calls from a thread with a running loop; here that loop only drives the
    browser, never Django, so the ORM calls of a module's fixtures and asserts are safe. Import
    it into the test module (`database_before_browser  # noqa: F401`); it is autouse there.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
