"""Django settings for Wallboard, read from the environment.

Development defaults just work (SQLite, a private Redis that `make run` starts, DEBUG on).
Production sets DEBUG=0 and must then give SECRET_KEY, ALLOWED_HOSTS and
FIELD_ENCRYPTION_KEYS; `manage.py check --deploy` passes with those.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from wallboard.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_required,
    env_str,
    env_timezone,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY") or "dev-only-insecure-key-5b1f0d9c7e2a4f3b8c6d1e0f9a8b7c6d5e4f3a2b1c0d"
else:
    SECRET_KEY = env_required("SECRET_KEY")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters of random text")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off (comma-separated host names)")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "wallboard.core",
    "wallboard.vcc",
    "wallboard.simulator",
    "wallboard.boards",
    "wallboard.live",
    "wallboard.polling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "wallboard.urls"
ASGI_APPLICATION = "wallboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_url("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}", schemes=("sqlite", "postgres", "postgresql", "pgsql")),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, worker and beat share one file: wait for locks rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_timezone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# In development WhiteNoise serves straight from the source folders (no collectstatic).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    import warnings

    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# --- Redis: channel layer, Celery broker, board state -------------------------------------
# Without REDIS_URL everything talks to the private server that `make run` starts.
REDIS_URL = env_url(
    "REDIS_URL",
    f"unix://{BASE_DIR / '.run' / 'redis' / 'redis.sock'}",
    schemes=("redis", "rediss", "unix"),
)


def redis_settings(url: str) -> dict:
    """Settings that depend on the Redis URL (also applied by tests that start their own)."""
    broker = "redis+socket://" + url[len("unix://"):] if url.startswith("unix://") else url
    return {
        "REDIS_URL": url,
        "CELERY_BROKER_URL": broker,
        "CHANNEL_LAYERS": {
            "default": {
                # Pub/sub: one publish per board reaches every web process once, whatever the
                # number of screens; a missed message shows as a seq gap and the client resyncs.
                "BACKEND": "wallboard.live.layer.SharedPubSubChannelLayer",
                "CONFIG": {"hosts": [url]},
            }
        },
    }


globals().update(redis_settings(REDIS_URL))

# --- Celery ---------------------------------------------------------------------------------
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_TIME_LIMIT = 30
CELERY_TASK_SOFT_TIME_LIMIT = 25
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "celery.beat:PersistentScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / ".run" / "celerybeat-schedule")

# --- Wallboard ------------------------------------------------------------------------------
# Fernet keys (comma-separated, newest first) that encrypt tenant tokens at rest. Rotation:
# put a new key first, run `manage.py rotate_tokens`, then drop the old key.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])
if not DEBUG and not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off (see README)")

# Upstream limits for the 8x8 client: both calls of a cycle must fit well inside 10 s.
VCC_CONNECT_TIMEOUT = env_float("VCC_CONNECT_TIMEOUT", 2.0, minimum=0.1)
VCC_READ_TIMEOUT = env_float("VCC_READ_TIMEOUT", 3.0, minimum=0.1)
VCC_MAX_BODY_BYTES = env_int("VCC_MAX_BODY_BYTES", 20 * 1024 * 1024, minimum=1024)

# After giving up on an 8x8 request (timeout), send nothing to that tenant for this long: 8x8
# is still working on it and would count a new request as a second one in flight (503).
WALLBOARD_ABANDONED_HOLD = env_float("WALLBOARD_ABANDONED_HOLD", 12.0, minimum=0.0)
# Beat ticks every second and enqueues the polls that are due; see wallboard/polling.
WALLBOARD_TICK_SECONDS = env_float("WALLBOARD_TICK_SECONDS", 1.0, minimum=0.1)
# After 8x8 refuses a tenant's credentials, try again this often (not every cycle).
WALLBOARD_UNAUTHORISED_RETRY = env_float("WALLBOARD_UNAUTHORISED_RETRY", 60.0, minimum=1.0)
CELERY_BEAT_SCHEDULE = {
    "dispatch-polls": {
        "task": "wallboard.polling.tasks.tick",
        "schedule": WALLBOARD_TICK_SECONDS,
        # A tick that waited longer than one tick is worthless: the next one is coming.
        "options": {"expires": WALLBOARD_TICK_SECONDS},
    },
}

# --- Production security --------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # Only consent to preloading; submitting the domain to browser lists is a separate step.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Access logs would carry display-token URLs; the kiosk view swaps the token for a cookie.
        "django.channels.server": {"level": "WARNING"},
    },
}
