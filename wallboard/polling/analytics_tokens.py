"""Where Analytics API access tokens live: in Redis, shared by every worker process of a tenant.

8x8 asks for one token reused until it nearly expires, not one per process or per call
(../shared/api/8x8-analytics-realtime-v5.md, section 1). The vcc client takes any TokenStore;
this one keeps the token in Redis under a hash of the credentials (never the secret itself),
encrypted with the same keys as the secrets in the database, and lets it expire shortly before
8x8's token does. Redis down is no reason to stop polling: the client then fetches a token of
its own, as it would without a store.
"""

from __future__ import annotations

import hashlib
import logging

import redis

from wallboard.boards.crypto import DecryptionError, decrypt, encrypt
from wallboard.live.redis import get_redis
from wallboard.vcc.analytics import CachedToken

log = logging.getLogger(__name__)

# Compare, then delete: only the token the caller saw refused, never one another worker just stored.
_DISCARD = """
local raw = redis.call('get', KEYS[1])
if raw and string.sub(raw, 1, string.len(ARGV[1])) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def token_store_key(key: str) -> str:
    """The Redis key of one set of credentials' token (`key` is already a hash)."""
    return f"wb:analytics:token:{key}"


def _tag(access_token: str) -> str:
    """A prefix that identifies a stored token without decrypting it."""
    return hashlib.sha256(access_token.encode()).hexdigest()[:16] + ":"


class RedisTokenStore:
    """A TokenStore in Redis (see the module docstring)."""

    def get(self, key: str) -> CachedToken | None:
        try:
            raw = get_redis().get(token_store_key(key))
        except redis.RedisError:
            log.warning("Analytics token store unavailable; fetching a token of our own", exc_info=True)
            return None
        if not isinstance(raw, bytes):
            return None
        _, _, ciphertext = raw.decode().partition(":")
        try:
            return CachedToken.from_json(decrypt(ciphertext))
        except DecryptionError:
            return None  # written under a key that is gone: fetch a new one

    def put(self, key: str, token: CachedToken, ttl: float) -> None:
        value = _tag(token.access_token) + encrypt(token.to_json())
        try:
            get_redis().set(token_store_key(key), value, px=max(1000, int(ttl * 1000)))
        except redis.RedisError:
            log.warning("Analytics token store unavailable; the token is not shared", exc_info=True)

    def discard(self, key: str, access_token: str) -> None:
        try:
            get_redis().eval(_DISCARD, 1, token_store_key(key), _tag(access_token))
        except redis.RedisError:
            log.warning("Analytics token store unavailable", exc_info=True)
