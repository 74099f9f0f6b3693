"""System checks for production settings (`manage.py check --deploy`).

Settings already refuse these at start-up when DEBUG is off; the checks say the same for
settings assembled any other way (a local settings module, overrides in a test or a shell),
so `check --deploy` can be trusted whatever produced the settings.

One check reads the database (stored secrets no key decrypts): Django runs such checks only
when asked, with `manage.py check --database default` (and before `migrate`).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError

from wallboard.boards.crypto import unreadable_rows
from wallboard.env import allowed_hosts_problem, is_fernet_key, secret_key_problem


@register(Tags.security, deploy=True)
def check_secret_key(app_configs: Sequence[AppConfig] | None, **kwargs: object) -> list[Error]:
    """The development SECRET_KEY is printed in settings.py: anyone can sign sessions with it."""
    problem = secret_key_problem(settings.SECRET_KEY, getattr(settings, "DEVELOPMENT_SECRET_KEY", ""))
    if problem is None:
        return []
    return [Error(problem, hint="Set SECRET_KEY to 50 or more random characters.", id="wallboard.E001")]


@register(Tags.security, deploy=True)
def check_allowed_hosts(app_configs: Sequence[AppConfig] | None, **kwargs: object) -> list[Error]:
    """A wildcard host lets any Host header through, and links built from it point anywhere."""
    problem = allowed_hosts_problem(list(settings.ALLOWED_HOSTS))
    if problem is None:
        return []
    return [Error(problem, hint="List the host names the site is served as.", id="wallboard.E002")]


@register(Tags.security, deploy=True)
def check_field_encryption_keys(app_configs: Sequence[AppConfig] | None, **kwargs: object) -> list[Error]:
    """Tokens at rest need real Fernet keys; without any, the key is derived from SECRET_KEY."""
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        return [Error("FIELD_ENCRYPTION_KEYS is not set: tenant tokens would be encrypted with a key derived "
                      "from SECRET_KEY", hint=_FERNET_HINT, id="wallboard.E003")]
    bad = [str(position) for position, key in enumerate(keys, start=1) if not is_fernet_key(key)]
    if not bad:
        return []
    return [Error(f"FIELD_ENCRYPTION_KEYS: key {', '.join(bad)} of {len(keys)} is not a Fernet key",
                  hint=_FERNET_HINT, id="wallboard.E004")]


_FERNET_HINT = "Make a key with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


@register(Tags.database, Tags.security)
def check_unreadable_secrets(
    app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None = None, **kwargs: object
) -> list[Warning]:
    """Secrets no configured key decrypts: their tenants cannot be polled until typed again.

    A warning, not an error: `migrate` runs database checks too, and must still work on a
    database restored from elsewhere. `check --database default --fail-level WARNING` fails.
    """
    if not databases or "default" not in databases:
        return []
    try:
        rows = unreadable_rows()
    except DatabaseError:  # tables not created yet (the check runs before `migrate` applies them)
        return []
    return [
        Warning(
            f"{row}: no configured key decrypts the stored value",
            hint="Put the old key back in FIELD_ENCRYPTION_KEYS and run rotate_tokens, or type the secret "
            "again in admin. `manage.py unreadable_secrets` lists them all.",
            id="wallboard.W001",
        )
        for row in rows
    ]
