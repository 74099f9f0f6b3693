"""Django settings for Wallboard, read from the environment.

Development defaults just work (SQLite, a private Redis that `make run` starts, DEBUG on).
Production sets DEBUG=0 and must then give SECRET_KEY, ALLOWED_HOSTS and
FIELD_ENCRYPTION_KEYS; `manage.py check --deploy` passes with those.
"""

from __future__ import annotations

import os
import re
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from wallboard.env import (
    allowed_hosts_problem,
    env_bool,
    env_fernet_keys,
    env_float,
    env_int,
    env_list,
    env_secret_key,
    env_str,
    env_timezone,
    env_url,
)

# Admin classes and forms are typed generics (admin.ModelAdmin[Board], forms.ModelForm[Tenant]);
# Django's classes take the subscript at run time only once django-stubs-ext patches them. Once
# per process, before any app module is imported: settings are the first thing Django loads.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

# Published here, so development only: production refuses it (here and in wallboard/ops/checks.py).
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-5b1f0d9c7e2a4f3b8c6d1e0f9a8b7c6d5e4f3a2b1c0d"
if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
else:
    SECRET_KEY = env_secret_key("SECRET_KEY", DEVELOPMENT_SECRET_KEY)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and allowed_hosts_problem(ALLOWED_HOSTS):
    raise ImproperlyConfigured(allowed_hosts_problem(ALLOWED_HOSTS))
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "csp",
    "wallboard.ops",
    "wallboard.devstack",
    "wallboard.vcc",
    "wallboard.simulator",
    "wallboard.boards",
    "wallboard.live",
    "wallboard.campaigns",
    "wallboard.alerts",
    "wallboard.polling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Supervisors get their browser's language (Accept-Language); a TV's ?lang= beats it.
    "django.middleware.locale.LocaleMiddleware",
    "wallboard.boards.middleware.QueryLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
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


def private_sqlite_file(name: str) -> None:
    """Create the SQLite file readable by its owner only (0600), before Django opens it.

    SQLite would create it 0644 (world-readable: encrypted tokens, password hashes, sessions),
    and its journal and WAL files copy the database file's mode. Created here, with the mode
    given to open() itself, because a chmod after the first connect leaves a moment in which
    another local user can open the file and keep reading it. An existing file is tightened
    too. Failures are left to Django, which says them better when it opens the file (a file
    that is not ours to change, a read-only folder).
    """
    if not name or name == ":memory:" or name.startswith("file:") or not os.path.isdir(os.path.dirname(name) or "."):
        return
    try:
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        try:
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
        except OSError:
            pass
    except OSError:
        pass


if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, worker and beat share one file: wait for locks rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    private_sqlite_file(str(DATABASES["default"]["NAME"]))
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable database must fail /healthz and a request in seconds, not hang for minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 3, minimum=1, maximum=60))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The board pages, their scripts' strings and the admin's help texts come in these languages
# (locale/<code>/LC_MESSAGES, see docs/admin.md "Languages").
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
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


_redis = redis_settings(REDIS_URL)
# Named one by one (not globals().update): type checkers see only names assigned here.
CELERY_BROKER_URL = _redis["CELERY_BROKER_URL"]
CHANNEL_LAYERS = _redis["CHANNEL_LAYERS"]

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
FIELD_ENCRYPTION_KEYS = env_fernet_keys("FIELD_ENCRYPTION_KEYS")
if not DEBUG and not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off (see README)")

# Upstream limits for the 8x8 client: both calls of a cycle must fit well inside 10 s. The
# maxima only stop absurd values (a poll task is cut after 9.5 s whatever these say).
VCC_CONNECT_TIMEOUT = env_float("VCC_CONNECT_TIMEOUT", 2.0, minimum=0.1, maximum=30.0)
VCC_READ_TIMEOUT = env_float("VCC_READ_TIMEOUT", 3.0, minimum=0.1, maximum=60.0)
VCC_MAX_BODY_BYTES = env_int("VCC_MAX_BODY_BYTES", 20 * 1024 * 1024, minimum=1024)

# After giving up on an 8x8 request (timeout), send nothing to that tenant for this long: 8x8
# is still working on it and would count a new request as a second one in flight (503).
WALLBOARD_ABANDONED_HOLD = env_float("WALLBOARD_ABANDONED_HOLD", 12.0, minimum=0.0, maximum=600.0)
# Beat ticks this often and enqueues the polls due before the next tick; see wallboard/polling.
# A quarter second: a poll the phase lock plans less than a tick ahead (a probe's step, the
# catch-up after a probe) waits for the next tick, which cost up to 1.3 s of age with 1 s ticks
# (docs/performance.md, "Phase lock: the early probes explained"). A tick is one Redis script.
# At most 5 s: the shortest poll interval a tenant may have.
WALLBOARD_TICK_SECONDS = env_float("WALLBOARD_TICK_SECONDS", 0.25, minimum=0.1, maximum=5.0)
# After 8x8 refuses a tenant's credentials, try again this often (not every cycle).
WALLBOARD_UNAUTHORISED_RETRY = env_float("WALLBOARD_UNAUTHORISED_RETRY", 60.0, minimum=1.0, maximum=3600.0)
# Alerts (docs/alerts.md): one Apprise send may take this long; from this many alerts for one
# channel in one poll cycle, the channel gets one digest instead.
ALERTS_SEND_TIMEOUT = env_float("ALERTS_SEND_TIMEOUT", 10.0, minimum=1.0, maximum=60.0)
ALERTS_DIGEST_AT = env_int("ALERTS_DIGEST_AT", 4, minimum=2, maximum=1000)
# Finished deliveries and closed alert events older than this many days are deleted (hourly).
ALERTS_KEEP_DAYS = env_int("ALERTS_KEEP_DAYS", 90, minimum=1, maximum=3650)
# The tick's queue. Set to a queue of its own (docker-compose.yml: "tick") served by a worker
# of its own (its "ticker"), a burst of polls in the worker's pool never holds a tick back.
# Unset, it is Celery's default queue, where polls, refreshes and alerts always are: then any
# worker serves it (a worker started without -Q still ticks).
WALLBOARD_TICK_QUEUE = (env_str("WALLBOARD_TICK_QUEUE", "") or "celery").strip()
CELERY_TASK_ROUTES = {"wallboard.polling.tasks.tick": {"queue": WALLBOARD_TICK_QUEUE}}
# Polls due together go out as batches of up to this many tenants, each polled in a thread of
# the worker process that takes the batch: a process waits on that many 8x8 answers at once.
WALLBOARD_POLL_BATCH = env_int("WALLBOARD_POLL_BATCH", 8, minimum=1, maximum=64)
CELERY_BEAT_SCHEDULE = {
    "dispatch-polls": {
        "task": "wallboard.polling.tasks.tick",
        "schedule": WALLBOARD_TICK_SECONDS,
        # A tick that waited longer than one tick is worthless: the next one is coming.
        "options": {"expires": WALLBOARD_TICK_SECONDS},
    },
    # docs/alerts.md: the delivery log's retention, and deliveries whose worker died mid-send.
    "alerts-prune-log": {"task": "wallboard.alerts.tasks.prune_log", "schedule": 3600.0, "options": {"expires": 3600}},
    "alerts-requeue-stuck": {"task": "wallboard.alerts.tasks.requeue_stuck", "schedule": 60.0, "options": {"expires": 60}},
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

# At INFO the log says what changes: a tenant's polling state, errors, what administrators
# did. Celery's lines for each beat tick, each task received and each task done (three a second
# of nothing) show at DEBUG only. Worker and beat log through this dict too (they do not hijack
# the root logger), but Celery sets the root level from their --loglevel: give them LOG_LEVEL
# there (wallboard/devstack/stack.py, docker-compose.yml).
LOG_LEVEL = (env_str("LOG_LEVEL", "INFO") or "INFO").strip().upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {LOG_LEVEL!r}")
# A logger's own level decides what reaches the handlers, so it may never be below LOG_LEVEL.
_PER_TASK_LEVEL = "WARNING" if LOG_LEVEL == "INFO" else LOG_LEVEL
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Access logs would carry display-token URLs; the kiosk view swaps the token for a cookie.
        "django.channels.server": {"level": "WARNING"},
        "celery.beat": {"level": _PER_TASK_LEVEL},  # "Sending due task" every tick
        "celery.worker.strategy": {"level": _PER_TASK_LEVEL},  # "Task ... received"
        "celery.app.trace": {"level": _PER_TASK_LEVEL},  # "Task ... succeeded in"; failures are errors
        "celery.worker.request": {"level": _PER_TASK_LEVEL},  # "Discarding revoked task": an expired tick
    },
}

# --- Login throttling (django-axes) -----------------------------------------------------------
# Five wrong passwords for one user name from one address lock that pair out for 15 minutes
# (each further try meanwhile starts the 15 minutes again): a person who mistypes gets through,
# a guesser gets about 480 tries a day instead of thousands a minute. Keyed on the pair, not the
# user name alone, so nobody can lock an administrator out from elsewhere by failing on purpose.
# The address is REMOTE_ADDR: behind a reverse proxy the ASGI server puts the client's there
# (uvicorn --proxy-headers, trusting only the proxy: FORWARDED_ALLOW_IPS; see docs/admin.md).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before any password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# A success clears the count, so typos scattered over a day never add up to a lockout.
AXES_RESET_ON_SUCCESS = True
# The sign-in page says what happened and for how long (the admin login shows it too).
AXES_LOCKOUT_TEMPLATE = "registration/login.html"
# Its start-up banner would be one more line on stderr of every management command (the `vcc`
# commands promise exactly one line there on failure); lockouts are still logged as warnings.
LOGGING["loggers"]["axes.apps"] = {"level": "WARNING"}
# urllib3 logs each request's path at DEBUG; a notification URL's path is a secret (a Slack or
# Teams webhook token), so those lines are never written (docs/alerts.md).
LOGGING["loggers"]["urllib3.connectionpool"] = {"level": "INFO"}

# --- /healthz ---------------------------------------------------------------------------------
# Monitoring systems send it as `Authorization: Bearer <token>` to see each tenant's polling
# state; without it (or a staff session) /healthz says only up/down and counts.
HEALTHZ_TOKEN = env_str("HEALTHZ_TOKEN", "") or ""
if HEALTHZ_TOKEN and len(HEALTHZ_TOKEN) < 20:
    raise ImproperlyConfigured("HEALTHZ_TOKEN must be at least 20 characters of random text")


# --- Content Security Policy (django-csp) ------------------------------------------------------
def csp_websocket_sources(hosts: list[str], schemes: tuple[str, ...]) -> list[str]:
    """ws(s):// sources, on any port, for the host names this site answers to.

    CSP3 browsers let 'self' cover same-origin websockets, but the older Chromium and WebKit
    builds of smart TVs follow CSP2, where 'self' means http(s) only and the board's websocket
    would be refused. IPv6 literals and "*" cannot be written as CSP sources: 'self' covers them.
    """
    sources = []
    for host in hosts:
        name = host.removeprefix(".")
        if not re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*", name):
            continue
        names = [name, f"*.{name}"] if host.startswith(".") else [name]
        sources += [f"{scheme}://{each}:*" for each in names for scheme in schemes]
    return sources


# Only this site's own files run or style the pages, and nothing may frame them. The sign-in
# page's inline <style> carries the per-response nonce; no 'unsafe-inline' anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "connect-src": [SELF, *csp_websocket_sources(ALLOWED_HOSTS, ("ws", "wss") if DEBUG else ("wss",))],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
