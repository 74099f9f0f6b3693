"""Production settings pass Django's deployment checks (CSRF, secure cookies, HSTS)."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def production_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DJANGO_"))}
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env.update(
        DEBUG="0",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(60)),
        ALLOWED_HOSTS="wall.example.com",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DJANGO_SETTINGS_MODULE="wallboard.settings",
    )
    return env


def test_it_passes_the_deployment_checks_in_production():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_sets_secure_cookies_and_hsts_in_production():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS >= 31536000, "
        "s.SESSION_COOKIE_HTTPONLY, s.SECURE_SSL_REDIRECT, 'django.middleware.csrf.CsrfViewMiddleware' in s.MIDDLEWARE)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["True"] * 6, result.stderr
