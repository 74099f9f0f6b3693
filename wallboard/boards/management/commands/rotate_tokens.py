"""Re-encrypt every stored tenant token with the newest FIELD_ENCRYPTION_KEYS key."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from wallboard.boards.models import Tenant
from wallboard.core.crypto import PREFIX, DecryptionError, decrypt, encrypt, rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every tenant token with the first key in FIELD_ENCRYPTION_KEYS. Run it after putting a new "
        "key first; once it succeeds, the old keys can be removed."
    )

    def handle(self, *args, **options):
        table = connection.ops.quote_name(Tenant._meta.db_table)
        column = connection.ops.quote_name(Tenant._meta.get_field("token").column)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT id, {column} FROM {table}")  # noqa: S608 - names come from the model
            rows = cursor.fetchall()
            updates, failed = self._rotated(rows)
            if failed:
                raise CommandError(
                    "no configured key decrypts the token of tenant id(s) "
                    f"{', '.join(map(str, failed))}; nothing was changed. Keep the old key in FIELD_ENCRYPTION_KEYS."
                )
            for pk, value in updates:
                cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608
        self.stdout.write(f"re-encrypted {len(updates)} tenant token(s) with the newest key")

    def _rotated(self, rows) -> tuple[list[tuple[int, str]], list[int]]:
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
