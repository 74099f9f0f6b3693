"""Encryption at rest for secrets such as tenant tokens.

Fernet (from the maintained `cryptography` package) with MultiFernet so keys can be rotated:
FIELD_ENCRYPTION_KEYS lists keys newest first; values encrypted with any listed key decrypt,
new values use the first. In development without keys, one is derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        derived = base64.urlsafe_b64encode(hashlib.sha256(("wallboard-field-key:" + secret_key).encode()).digest())
        keys = (derived.decode(),)
    try:
        return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must hold Fernet keys (make one with: "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        ) from None


def fernet() -> MultiFernet:
    """The MultiFernet for the current settings."""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    """Encrypt with the newest key."""
    return PREFIX + fernet().encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    """Decrypt a value produced by `encrypt` with any configured key."""
    if not stored.startswith(PREFIX):
        raise DecryptionError("the stored value is not encrypted")
    try:
        return fernet().decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        raise DecryptionError("no configured key decrypts this value (was FIELD_ENCRYPTION_KEYS changed?)") from None


def rotate(stored: str) -> str:
    """Re-encrypt with the newest key."""
    return PREFIX + fernet().rotate(stored[len(PREFIX):].encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code only ever sees the plaintext."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
