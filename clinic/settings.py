"""Settings for the clinic app, all driven by environment variables.

See ``.env.example`` and the README's configuration table. Every reader is strict:
a wrong value stops start-up with a message naming the variable.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import phonenumbers
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from clinic.env import Env, generated_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = Env()

TESTING = "pytest" in sys.modules or env.bool("CLINIC_TESTING", False)

# manage.py in a developer's checkout with nothing configured runs in development mode.
# Servers (gunicorn, celery) and anything given a production secret default to production.
_DEVELOPER_CHECKOUT = (
    Path(sys.argv[0]).name == "manage.py"
    and env.raw("DJANGO_DEBUG") is None
    and env.raw("DJANGO_SECRET_KEY") is None
)
DEBUG = env.bool("DJANGO_DEBUG", _DEVELOPER_CHECKOUT)

# Signs sessions, CSRF tokens and patient self-service links. A weak or published key stops
# start-up in every mode. Unset on a development machine (make run, manage.py), a random key
# is made on first start and kept in var/secret_key (never committed); test runs set a fixed
# one at the end of this file.
SECRET_KEY = env.secret_key("DJANGO_SECRET_KEY") or ""
if not SECRET_KEY and DEBUG and not TESTING:
    SECRET_KEY = generated_secret_key(VAR_DIR / "secret_key")
if not SECRET_KEY and not TESTING:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (production). "
        "On a development machine set DJANGO_DEBUG=1 (make run does)."
    )

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG or TESTING else []
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

PORT = env.int("PORT", 8000, minimum=1, maximum=65535)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    # django-ninja (the booking API): listed so its Swagger UI assets are served locally.
    "ninja",
    "clinic",
    "treatments",
    "bookings",
]

MIDDLEWARE = [
    # First: every log line of the request, and its answer, carry one X-Request-ID.
    "clinic.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Cache-Control: no-store on every page a view renders (they may show patient data).
    "clinic.security.NoStoreMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Absolute session lifetime (SESSION_ABSOLUTE_HOURS), whatever the activity.
    "clinic.security.SessionLifetimeMiddleware",
    # Who/where for clinic.audit.record, without passing the request around.
    "clinic.audit.AuditContextMiddleware",
    # Deny by default: every view needs a signed-in user unless marked login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Two-factor: verify (and, when OTP_REQUIRED_FOR_CLINICAL, enrol) before any page.
    "clinic.security.TwoFactorMiddleware",
    # DEBUG's technical pages (URL map, tracebacks) only for requests from this machine; inside
    # the others, so its 404 page has the user and messages a normal one has.
    "clinic.debug_pages.LocalDebugPagesMiddleware",
    # A database that is down or locked answers 503 "try again", not 500 (clinic/db_faults.py).
    "clinic.db_faults.DatabaseUnavailableMiddleware",
    # Brute-force protection; last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

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
                "clinic.context_processors.clinic",
            ],
        },
    },
]

DATABASES = {"default": env.database("DATABASE_URL", default_sqlite=VAR_DIR / "clinic.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# In-process caches. "calendar" keeps drawn calendar grids until the schedule changes
# (bookings/calendar_cache.py); each entry is checked against a version in the database, so
# a cache per process is correct with any number of web processes. 0 seconds turns it off.
CALENDAR_CACHE_SECONDS = env.int("CALENDAR_CACHE_SECONDS", 300, minimum=0, maximum=3600)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "calendar": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "calendar",
        # A busy day's grid is ~250 kB: at most ~25 MB per web process.
        "OPTIONS": {"MAX_ENTRIES": 100},
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions: idle timeout (refreshed on each request) and browser-close expiry.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "en-gb"
USE_I18N = True
# Dates and times are written one way everywhere: clinic/locale_formats/en_GB/formats.py.
FORMAT_MODULE_PATH = ["clinic.locale_formats"]
USE_TZ = True
CLINIC_TIME_ZONE = env.time_zone("CLINIC_TIME_ZONE", "Europe/London")
TIME_ZONE = CLINIC_TIME_ZONE

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
if WHITENOISE_USE_FINDERS:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email
globals().update(env.email("EMAIL_URL", default_dir=VAR_DIR / "mail"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", 10, minimum=1)

# The clinic itself (shown in pages and every email)
CLINIC_NAME = env.str("CLINIC_NAME", "Fairview Skin Clinic")
CLINIC_PHONE = env.str("CLINIC_PHONE", "020 7946 0321")
CLINIC_EMAIL = env.str("CLINIC_EMAIL", "reception@clinic.example")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", f"{CLINIC_NAME} <{CLINIC_EMAIL}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
CLINIC_ADDRESS = env.str("CLINIC_ADDRESS", "12 Harley Row, London W1G 9QD")
CLINIC_BASE_URL = env.str("CLINIC_BASE_URL", f"http://localhost:{PORT}")
REASSESSMENT_AFTER_DAYS = env.int("REASSESSMENT_AFTER_DAYS", 183, minimum=1)
# Phone numbers typed without a country code are read in this region (ISO 3166 code).
CLINIC_PHONE_REGION = env.str("CLINIC_PHONE_REGION", "GB").upper()
if CLINIC_PHONE_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured(
        f"CLINIC_PHONE_REGION={CLINIC_PHONE_REGION!r} is not a country code such as GB or IE."
    )

# Celery
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = env.broker(
    "CELERY_BROKER_URL", default_dir=VAR_DIR
)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Patient messages: every sweep reads the database, so a broker that was down loses nothing.
MESSAGE_SWEEP_SECONDS = env.int("MESSAGE_SWEEP_SECONDS", 60, minimum=1)
# Audit chain anchors (clinic/audit_anchors.py): entries newer than the last anchor are the
# ones a cut could remove unseen.
AUDIT_ANCHOR_DIR = Path(env.str("AUDIT_ANCHOR_DIR", str(VAR_DIR / "audit-anchors")))
AUDIT_ANCHOR_SECONDS = env.int("AUDIT_ANCHOR_SECONDS", 600, minimum=10)
# Backups (clinic/backups.py): `make backup`, and beat every BACKUP_INTERVAL_HOURS (0: off).
BACKUP_DIR = Path(env.str("BACKUP_DIR", str(VAR_DIR / "backups")))
BACKUP_KEEP = env.int("BACKUP_KEEP", 14, minimum=1)
BACKUP_INTERVAL_HOURS = env.int("BACKUP_INTERVAL_HOURS", 24, minimum=0)
# /healthz and the staff home warn when beat has not run a sweep for this many minutes.
BEAT_STALE_MINUTES = env.int("BEAT_STALE_MINUTES", 10, minimum=1)
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "patient-message-sweeps": {
        "task": "bookings.tasks.sweep_patient_messages",
        "schedule": float(MESSAGE_SWEEP_SECONDS),
        # A sweep left in the queue while no worker ran is dropped; the next one does its work.
        "options": {"expires": max(MESSAGE_SWEEP_SECONDS - 5, 1)},
    },
    "dispatch-due-messages": {
        "task": "clinic.tasks.dispatch_due_messages",
        "schedule": float(MESSAGE_SWEEP_SECONDS),
        "options": {"expires": max(MESSAGE_SWEEP_SECONDS - 5, 1)},
    },
    # Views of records are written without the chain's lock and sealed into it here.
    "seal-audit-views": {
        "task": "clinic.tasks.seal_audit_views",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # The chain's head, kept outside the database: a trail cut back or rewritten shows.
    "anchor-audit-chain": {
        "task": "clinic.tasks.anchor_audit_chain",
        "schedule": float(AUDIT_ANCHOR_SECONDS),
        "options": {"expires": max(AUDIT_ANCHOR_SECONDS - 5, 1)},
    },
}
if BACKUP_INTERVAL_HOURS:
    CELERY_BEAT_SCHEDULE["backup-database"] = {
        "task": "clinic.tasks.backup_database",
        "schedule": BACKUP_INTERVAL_HOURS * 3600.0,
        # A backup waiting in the queue for half an interval is dropped; the next one runs.
        "options": {"expires": BACKUP_INTERVAL_HOURS * 1800},
    }

# Reminders, notices, follow-ups (bookings/reminders.py) and the ledger (clinic/messaging.py).
# Offsets are clinic wall-clock hours: the 48-hour reminder of a Monday 10:00 appointment goes
# on Saturday at 10:00 local time, whatever a DST switch in between does.
REMINDER_OFFSETS_HOURS = sorted(set(env.int_list("REMINDER_OFFSETS_HOURS", [48, 2])), reverse=True)
REMINDER_SKIP_LATER_WHEN_CONFIRMED = env.bool("REMINDER_SKIP_LATER_WHEN_CONFIRMED", False)
# A booking changed again within this many seconds sends only its final state.
BOOKING_NOTICE_GRACE_SECONDS = env.int("BOOKING_NOTICE_GRACE_SECONDS", 180, minimum=0)
# Follow-up and maintenance emails go out from this clinic-local hour of their day.
FOLLOWUP_SEND_HOUR = env.int("FOLLOWUP_SEND_HOUR", 9, minimum=0, maximum=23)
# A message that cannot go is retried (1, 2, 4 ... minutes, at most MESSAGE_RETRY_MAX_SECONDS
# apart) for as long as it is worth sending (clinic.messaging.USEFUL_FOR), then expires.
MESSAGE_RETRY_BASE_SECONDS = env.int("MESSAGE_RETRY_BASE_SECONDS", 60, minimum=1)
MESSAGE_RETRY_MAX_SECONDS = env.int("MESSAGE_RETRY_MAX_SECONDS", 600, minimum=1)
MESSAGE_LEASE_SECONDS = env.int("MESSAGE_LEASE_SECONDS", 300, minimum=10)
# A lease covers one message's SMTP exchange (connect, TLS, login, MAIL, RCPT, DATA: about a
# dozen replies, each awaited at most EMAIL_TIMEOUT). A shorter lease could run out while its
# sender is still waiting for the server, and a second sender would send the message again.
if MESSAGE_LEASE_SECONDS < 12 * EMAIL_TIMEOUT:
    raise ImproperlyConfigured(
        f"MESSAGE_LEASE_SECONDS ({MESSAGE_LEASE_SECONDS}) must be at least 12 x EMAIL_TIMEOUT "
        f"({12 * EMAIL_TIMEOUT}): a message's lease must outlast its slowest SMTP exchange."
    )
# Patient self-service links (bookings/selfservice.py).
SELF_SERVICE_LINK_MAX_AGE_DAYS = env.int("SELF_SERVICE_LINK_MAX_AGE_DAYS", 60, minimum=1)
SELF_SERVICE_CANCEL_NOTICE_HOURS = env.int("SELF_SERVICE_CANCEL_NOTICE_HOURS", 24, minimum=0)

# Security headers that hold in every environment; the production-only ones follow.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Security (ASVS L2 / HIPAA 164.312): sessions, brute force, two-factor, CSP, retention.
SESSION_ABSOLUTE_HOURS = env.int("SESSION_ABSOLUTE_HOURS", 12, minimum=1)
# Reverse proxies in front of the app that append to X-Forwarded-For (0: trust no header).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=5)
# Their addresses or networks: X-Forwarded-For is read only from a request whose direct peer
# is one of them, so a client that reaches the app directly cannot pick its own address.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", ["127.0.0.1", "::1"])
AUTHENTICATION_BACKENDS = [
    "clinic.security.LoginThrottleBackend",
    # Django's ModelBackend, loading the user's roles in the same query as the user.
    "clinic.roles.RoleLoadingBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", 15, minimum=1))
# Per username at one address: guesses from one address never lock the owner out at another.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# An address failing for this many usernames is paused for all of them, this long
# (clinic.security.address_is_paused, counted from axes' failure log).
AXES_ENABLE_ACCESS_FAILURE_LOG = True
LOGIN_ADDRESS_USERNAME_LIMIT = env.int("LOGIN_ADDRESS_USERNAME_LIMIT", 5, minimum=2)
LOGIN_ADDRESS_COOLOFF = timedelta(minutes=env.int("LOGIN_ADDRESS_COOLOFF_MINUTES", 60, minimum=1))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "clinic.security.lockout_response"
AXES_VERBOSE = True
# The client address as our own proxies saw it (X-Forwarded-For read from the right, as far
# as TRUSTED_PROXY_COUNT reaches); the audit trail uses the same function.
AXES_CLIENT_IP_CALLABLE = "clinic.security.client_ip_address"
OTP_REQUIRED_FOR_CLINICAL = env.bool("OTP_REQUIRED_FOR_CLINICAL", False)
OTP_TOTP_ISSUER = CLINIC_NAME
CLINICAL_RETENTION_YEARS = env.int("CLINICAL_RETENTION_YEARS", 8, minimum=1)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# LOG_FORMAT=json: one JSON object per line (for a log collector); both carry the request id.
LOG_FORMAT = env.str("LOG_FORMAT", "plain").lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json (got {LOG_FORMAT!r}).")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "clinic.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "clinic.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Its start-up banner on every manage.py command; failures and lockouts still log.
        "axes.apps": {"level": "WARNING"},
    },
}

# Error reports (optional): Sentry, with patient data scrubbed (clinic/observability.py).
SENTRY_DSN = env.str("SENTRY_DSN", "")
if SENTRY_DSN and not TESTING:
    from clinic.observability import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", "development" if DEBUG else "production"),
    )

# Test runs: the one place tests override settings.
if TESTING:
    # Only test runs sign with a key from the repository; nothing they sign leaves them.
    SECRET_KEY = SECRET_KEY or "tests-only-fixed-key-5f0c2e9a7b41d6e8c3a9f2b7d1e4c6a8"
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
