"""Typed failures of the 8x8 clients.

Every way a call to 8x8 can go wrong is one subclass of VccError with a short machine `kind`
(the poller maps it to a tenant health state) and a message a user understands (the `vcc`
command prints it as its one line on stderr). Messages never contain the token.
"""

from __future__ import annotations


class VccError(Exception):
    """Base class: something went wrong talking to 8x8."""

    kind = "error"
    prefix = "error"

    def __init__(self, detail: str = "", *, status: int | None = None, url: str | None = None):
        self.detail = detail
        self.status = status
        # Only ever a URL without credentials: the token travels in a header.
        self.url = url
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """One line for a human: what went wrong, then the specifics."""
        text = f"{self.prefix}: {self.detail}" if self.detail else self.prefix
        return " ".join(text.split())

    def __str__(self) -> str:
        return self.message


class UnauthorisedError(VccError):
    kind = "unauthorised"
    prefix = "bad credentials"


class NotFoundError(VccError):
    kind = "not_found"
    prefix = "not found"


class BusyError(VccError):
    kind = "busy"
    prefix = "busy"


class ServerError(VccError):
    kind = "server_error"
    prefix = "server error"


class BadRequestError(VccError):
    kind = "bad_request"
    prefix = "bad request"


class TimedOutError(VccError):
    kind = "timeout"
    prefix = "timed out"


class UnreachableError(VccError):
    kind = "unreachable"
    prefix = "unreachable"


class MalformedError(VccError):
    kind = "malformed"
    prefix = "malformed answer"


class UnsafeError(VccError):
    kind = "unsafe"
    prefix = "refused as unsafe"


class TooLargeError(VccError):
    kind = "too_large"
    prefix = "answer too large"


KINDS = {
    cls.kind: cls
    for cls in (
        UnauthorisedError,
        NotFoundError,
        BusyError,
        ServerError,
        BadRequestError,
        TimedOutError,
        UnreachableError,
        MalformedError,
        UnsafeError,
        TooLargeError,
    )
}
