"""Sign-in is throttled: five wrong passwords for a user name from one address lock that pair out.

Found in an attack on the running stack: 30 wrong admin passwords, then the right one worked.
django-axes counts the failures; `manage.py axes_reset` (docs/admin.md) lifts a lockout.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

pytestmark = pytest.mark.django_db

PASSWORD = "right-horse-battery-staple"
LOGINS = ["/accounts/login/", "/admin/login/"]


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    """Each try hashes a password: the production hasher would make this file take a minute."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_user():
    return User.objects.create_user("boss", password=PASSWORD, is_staff=True, is_superuser=True)


def sign_in(client, url: str, password: str, username: str = "boss", address: str = "203.0.113.7"):
    return client.post(url, {"username": username, "password": password, "next": "/"}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, url: str, times: int = 5, **kwargs) -> None:
    for attempt in range(times):
        response = sign_in(client, url, f"wrong-{attempt}", **kwargs)
        assert response.status_code in (200, 429)
        assert not signed_in(client)


@pytest.mark.parametrize("url", LOGINS)
def test_it_refuses_the_right_password_after_five_wrong_ones(client, admin_user, url):
    fail(client, url)
    response = sign_in(client, url, PASSWORD)
    assert response.status_code == 429
    assert not signed_in(client)


@pytest.mark.parametrize("url", LOGINS)
def test_it_still_accepts_the_right_password_after_four_wrong_ones(client, admin_user, url):
    fail(client, url, times=4)
    assert sign_in(client, url, PASSWORD).status_code == 302
    assert signed_in(client)


@pytest.mark.parametrize("url", LOGINS)
def test_it_says_why_and_for_how_long(client, admin_user, url):
    fail(client, url)
    page = sign_in(client, url, PASSWORD).content.decode()
    assert "Too many failed sign-ins" in page
    assert "15 minutes" in page
    assert 'name="password"' not in page, "no form to keep guessing in"


def test_it_lets_the_user_in_again_after_axes_reset(client, admin_user):
    fail(client, "/admin/login/")
    call_command("axes_reset")
    assert sign_in(client, "/admin/login/", PASSWORD).status_code == 302
    assert signed_in(client)


def test_it_lets_the_user_in_again_after_axes_reset_username(client, admin_user):
    fail(client, "/accounts/login/")
    call_command("axes_reset_username", "boss")
    assert sign_in(client, "/accounts/login/", PASSWORD).status_code == 302


def test_it_lifts_the_lockout_after_the_cool_off(client, admin_user):
    from axes.models import AccessAttempt

    fail(client, "/accounts/login/")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert sign_in(client, "/accounts/login/", PASSWORD).status_code == 302


def test_it_keeps_the_user_out_at_one_address_only(client, admin_user):
    # Keyed on the pair: failing on purpose elsewhere cannot lock an administrator out.
    fail(client, "/accounts/login/", address="198.51.100.66")
    assert sign_in(client, "/accounts/login/", PASSWORD, address="203.0.113.7").status_code == 302


def test_it_forgets_failures_after_a_success(client, admin_user):
    fail(client, "/accounts/login/", times=4)
    assert sign_in(client, "/accounts/login/", PASSWORD).status_code == 302
    client.logout()
    fail(client, "/accounts/login/", times=4)
    assert sign_in(client, "/accounts/login/", PASSWORD).status_code == 302


@pytest.mark.django_db(transaction=True)
async def test_it_locks_out_under_asgi_too(async_client):
    # uvicorn runs the middleware chain asynchronously: django-axes has a separate path for it.
    await sync_to_async(User.objects.create_user)("boss", password=PASSWORD, is_staff=True)
    for attempt in range(5):
        await async_client.post("/admin/login/", {"username": "boss", "password": f"wrong-{attempt}"})
    response = await async_client.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
