"""Encryption at rest for secrets such as tenant tokens.

Fernet (from the maintained `cryptography` package) with MultiFernet so keys can be rotated:
FIELD_ENCRYPTION_KEYS lists keys newest first; values encrypted with any listed key decrypt,
new values use the first. In development without keys, one is derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.text import capfirst

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


class UnreadableSecret(str):
    """What an encrypted field holds when no configured key decrypts the stored value.

    Raising instead would make the whole row unloadable: admin pages, the poller and /healthz
    would fail on that tenant. The sentinel loads, so every place can say "enter it again".
    It is truthy (a value *is* stored, and must not be mistaken for none), equal only to a
    sentinel of the same ciphertext (never to a real secret), passes the field validators (a
    form that leaves the secret blank keeps it), and its text is a fixed placeholder: the
    ciphertext is kept aside and written back unchanged on save, never shown.
    """

    PLACEHOLDER = "(unreadable with the current keys)"
    _stored: str

    def __new__(cls, stored: str) -> UnreadableSecret:
        secret = super().__new__(cls, cls.PLACEHOLDER)
        secret._stored = stored
        return secret

    @property
    def stored(self) -> str:
        """The column's value as found: saving writes it back, so an old key put back reads it again."""
        return self._stored

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnreadableSecret) and other._stored == self._stored

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((UnreadableSecret, self._stored))

    def __repr__(self) -> str:
        return "UnreadableSecret()"

    def __reduce__(self) -> tuple[type[UnreadableSecret], tuple[str]]:
        return (UnreadableSecret, (self._stored,))


if TYPE_CHECKING:
    # django-stubs types a field by what it takes and gives; at run time fields take no parameters.
    _TextField = models.TextField[str, str]
else:
    _TextField = models.TextField


class EncryptedTextField(_TextField):
    """A text column stored encrypted; Python code only ever sees the plaintext.

    A value no configured key decrypts loads as an UnreadableSecret instead of raising.
    """

    def from_db_value(self, value: str | None, expression: object, connection: BaseDatabaseWrapper) -> str | None:
        if value is None or value == "":
            return value
        try:
            return decrypt(value)
        except DecryptionError:
            return UnreadableSecret(value)

    def get_prep_value(self, value: Any) -> str | None:
        if isinstance(value, UnreadableSecret):
            return value.stored  # as it was: encrypting the placeholder would lose the secret for good
        prepared: str | None = super().get_prep_value(value)
        if prepared is None or prepared == "":
            return prepared
        return encrypt(prepared)


# --- Finding unreadable secrets ---------------------------------------------------------------


def encrypted_fields() -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    """Every installed model with encrypted fields, and those fields.

    Found from the models rather than listed by hand, so a secret added later (an API key, a
    notification URL) is rotated and checked too instead of being forgotten.
    """
    found = []
    for model in apps.get_models():
        fields = [field for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)]
        if fields:
            found.append((model, fields))
    return found


def encrypted_columns() -> list[tuple[str, str, str]]:
    """(label, table, column) of every encrypted field of every installed model."""
    return [
        (f"{model._meta.label}.{field.name}", model._meta.db_table, field.column)
        for model, fields in encrypted_fields()
        for field in fields
        if field.column is not None  # always, for a concrete field (Django's own definition)
    ]


def unreadable_fields(instance: models.Model) -> list[str]:
    """Names of the instance's encrypted fields that no configured key could decrypt."""
    return [
        field.name
        for field in instance._meta.concrete_fields
        if isinstance(field, EncryptedTextField) and isinstance(instance.__dict__.get(field.attname), UnreadableSecret)
    ]


def secret_name(field_name: str) -> str:
    """A field name in words for people: "token", "API key", "webhook URL"."""
    acronyms = {"api": "API", "url": "URL"}
    return " ".join(acronyms.get(word, word) for word in field_name.split("_"))


def unreadable_message(field_names: list[str]) -> str:
    """What to tell an administrator about secrets that must be typed again."""
    names = [secret_name(name) for name in field_names]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    pronoun = "it" if len(names) == 1 else "them"
    return f"the stored {listed} cannot be read with the current keys: enter {pronoun} again"


@dataclass(frozen=True)
class UnreadableRow:
    """A row holding secrets that no configured key decrypts."""

    model: type[models.Model]
    pk: object
    name: str
    fields: tuple[str, ...]

    def __str__(self) -> str:
        # e.g. Tenant 'Acme' (id 3): token
        return f"{capfirst(self.model._meta.verbose_name)} {self.name!r} (id {self.pk}): {', '.join(self.fields)}"


def unreadable_rows() -> list[UnreadableRow]:
    """Every row of every model whose encrypted fields hold a value no configured key decrypts."""
    found = []
    for model, _ in encrypted_fields():
        for instance in model._base_manager.order_by("pk").iterator():
            names = unreadable_fields(instance)
            if names:
                found.append(UnreadableRow(model, instance.pk, str(instance), tuple(names)))
    return found
