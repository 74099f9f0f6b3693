"""Re-encrypt every stored secret (tenant tokens, API keys) with the newest FIELD_ENCRYPTION_KEYS key."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

# encrypted_columns lives beside the field, so unreadable_secrets and the checks share it;
# imported here too for anything that still looks for it in this module.
from wallboard.boards.crypto import PREFIX, DecryptionError, decrypt, encrypt, encrypted_columns, rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (tenant tokens, API keys) with the first key in FIELD_ENCRYPTION_KEYS. "
        "Run it after putting a new key first; once it succeeds, the old keys can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        quote = connection.ops.quote_name
        with transaction.atomic(), connection.cursor() as cursor:
            plan: list[tuple[str, str, list[tuple[int, str]]]] = []
            failed: list[str] = []
            for label, table, column in encrypted_columns():
                cursor.execute(f"SELECT id, {quote(column)} FROM {quote(table)}")  # noqa: S608 - names from the model
                updates, unreadable = self._rotated(cursor.fetchall())
                plan.append((table, column, updates))
                failed += [f"{label} of id {pk}" for pk in unreadable]
            if failed:
                raise CommandError(
                    f"no configured key decrypts {', '.join(failed)}; nothing was changed. "
                    "Keep the old key in FIELD_ENCRYPTION_KEYS, or type those secrets again in admin "
                    "(manage.py unreadable_secrets lists them)."
                )
            for table, column, updates in plan:
                for pk, value in updates:
                    cursor.execute(f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s", [value, pk])  # noqa: S608
        count = sum(len(updates) for _, _, updates in plan)
        self.stdout.write(f"re-encrypted {count} stored secret(s) with the newest key")

    def _rotated(self, rows: Iterable[tuple[int, str | None]]) -> tuple[list[tuple[int, str]], list[int]]:
        """New ciphertexts for every row, and the ids no key could decrypt (all or nothing)."""
        updates, failed = [], []
        for pk, stored in rows:
            if not stored:
                continue
            if not stored.startswith(PREFIX):
                updates.append((pk, encrypt(stored)))  # a legacy plaintext value: encrypt it now
                continue
            try:
                decrypt(stored)
            except DecryptionError:
                failed.append(pk)
                continue
            updates.append((pk, rotate(stored)))
        return updates, failed
