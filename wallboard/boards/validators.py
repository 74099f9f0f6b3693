"""Validators for what an administrator types about a tenant's connection to 8x8.

The rules themselves live beside the client (wallboard.vcc.client), which refuses the same
values at request time: admin and client can never disagree about what 8x8 accepts.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from wallboard.vcc.client import tenant_name_problem, token_problem


def validate_tenant_name(value: str) -> None:
    """The 8x8 tenant name travels as the basic auth user: printable ASCII, no ':'."""
    problem = tenant_name_problem(value or "")
    if problem:
        raise ValidationError(_sentence(problem), code="invalid_tenant_name")


def validate_token(value: str) -> None:
    """The data request token travels as the basic auth password: printable ASCII.

    The message names the rule only: the value is a secret and must not be echoed back.
    """
    problem = token_problem(value or "")
    if problem:
        raise ValidationError(_sentence(problem), code="invalid_token")


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."
