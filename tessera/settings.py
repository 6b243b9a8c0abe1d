"""Tessera settings, read from environment variables (12-factor).

Only the variables documented in README.md are meant to change between
installations; everything else is a house default.
"""

from __future__ import annotations

from pathlib import Path

import environ

from django.utils.translation import gettext_lazy as _

from tessera import conf

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DATA_DIR = Path(env.str("TESSERA_DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


SECRET_KEY = conf.secret_key(env.str("SECRET_KEY", default=""), DATA_DIR)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "tessera.system_apps.DeskAdminConfig",  # django.contrib.admin, with one "System" section
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # SearchVectorField and GinIndex (tessera.search) require it; on SQLite it does nothing.
    "django.contrib.postgres",
    "django_htmx",
    "ninja",  # serves the API docs page's scripts from our own static files
    "tessera.system_apps.TaskResultsConfig",  # django_tasks_db, listed under "System" in the admin
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "tessera.accounts",
    "tessera.tickets",
    "tessera.sla",
    "tessera.rules",
    "tessera.portal",
    "tessera.staff",
    "tessera.search",
    "tessera.mail",
    "tessera.audit",
    "tessera.scheduler",
    "tessera.automation",
    "tessera.api",
    "tessera.webhooks",
    "tessera.canned",
    "tessera.tasks",
    "tessera.customfields",
    "tessera.kb",
    "tessera.satisfaction",
    "tessera.importer",
    "tessera.i18n",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tessera.audit.middleware.AuditContextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tessera.i18n.middleware.UserLanguageMiddleware",
    "tessera.cache_headers.NoStoreMiddleware",
    "tessera.audit.sessions.SessionActivityMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tessera.accounts.middleware.TwoFactorMiddleware",
    "tessera.accounts.middleware.ViewerTimezoneMiddleware",
    "tessera.tickets.reference.RequestMemoMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "tessera.urls"
WSGI_APPLICATION = "tessera.wsgi.application"

# Select boxes without one template include per option (tessera/form_renderer.py).
FORM_RENDERER = "tessera.form_renderer.FastSelectRenderer"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'tessera.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers carry on while one request writes; the timeout turns
    # "database is locked" into a short wait under concurrent writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation pays off for long analytical queries; for a help desk's short, indexed
    # queries it only adds 25–45 ms whenever a plan's cost estimate crosses its threshold.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    # Opt-in: parameters bound by the server and statements prepared from their fifth use on a
    # persistent connection (CONN_MAX_AGE). PostgreSQL then parses and plans the API's repeated
    # statements once per connection: about 1 ms less PostgreSQL CPU per ticket created through
    # the API (bench/RESULTS.md, issue 13). Off by default: after five runs PostgreSQL may keep a
    # generic plan for a statement, which the queue pages' skewed filters were never measured
    # with at a million tickets; mail ingest turns it on for its own process (mail/lmtp.py).
    if env.bool("DATABASE_SERVER_SIDE_BINDING", default=False):
        DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
        DATABASES["default"]["OPTIONS"].setdefault(
            "prepare_threshold", env.int("DATABASE_PREPARE_THRESHOLD", default=5)
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Local memory is private to each process: with several workers, share a cache so that limits hold
# (redis://host:6379/1, or dbcache://tessera_cache after `manage.py createcachetable`, which is what
# `make run` and the README's production environment set). The test suite keeps local memory.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["tessera.accounts.backends.EmailBackend"]
LOGIN_URL = "portal:login"
# Lockouts (tessera/accounts/throttle.py, README "Two-factor authentication and lockouts"): attempts
# allowed per email address typed and per client address within the window, then refused until
# the lockout ends or an administrator lifts it. Sign-in counts failures; the others every request.
THROTTLES = {
    "sign-in": {
        "account": env.int("TESSERA_SIGNIN_FAILURES_PER_ACCOUNT", default=5),
        "address": env.int("TESSERA_SIGNIN_FAILURES_PER_ADDRESS", default=20),
        "window_minutes": 15,
        "lockout_minutes": env.int("TESSERA_LOCKOUT_MINUTES", default=15),
    },
    "password-reset": {"account": 3, "address": 10, "window_minutes": 60, "lockout_minutes": 60},
    "status-lookup": {"account": 5, "address": 20, "window_minutes": 60, "lockout_minutes": 60},
}
# Two-factor authentication (tessera/accounts/twofactor.py): the app shows this name; keys stay hidden in the admin.
OTP_TOTP_ISSUER = "Tessera"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Passkeys (tessera/accounts/passkeys.py) are a second factor only; the relying party and its
# origin come from TESSERA_BASE_URL per request, so the static origin list stays empty.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = "Tessera"
OTP_WEBAUTHN_RP_ID_CALLABLE = "tessera.accounts.passkeys.relying_party_id"
OTP_WEBAUTHN_HELPER_CLASS = "tessera.accounts.passkeys.DeskWebAuthnHelper"
# An administrator never reads an agent's second-factor secret (django-otp's admin shows it otherwise).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
SILENCED_SYSTEM_CHECKS = ["otp_webauthn.E030"]  # "no allowed origins": DeskWebAuthnHelper supplies them
# Behind a reverse proxy: the META name of the header it sets to the client's IP (HTTP_X_REAL_IP).
CLIENT_IP_HEADER = env.str("TESSERA_CLIENT_IP_HEADER", default="")
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "tessera.accounts.hashers.OsTicketBcryptPasswordHasher",  # imported osTicket passwords, upgraded on sign-in
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German")), ("fr", _("French")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="UTC")

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("TESSERA_MEDIA_DIR", default=str(DATA_DIR / "attachments")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

# Content Security Policy: nothing inline runs, even if sanitising ever failed.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

# HTTPS hardening: on by default when the desk's public address is https, each one overridable.
_HTTPS = env.str("TESSERA_BASE_URL", default="").lower().startswith("https://")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_HTTPS)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_HTTPS)
# The portal's language picker (tessera/i18n): a plain form sets it, no script reads it; a year.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # Preloading is a commitment an operator makes by submitting the domain, never a default.
    SILENCED_SYSTEM_CHECKS.append("security.W021")
# Behind a TLS proxy: the header it sets, e.g. "X-Forwarded-Proto" (value https) or "X-Forwarded-Ssl: on".
# Set it only when the proxy always sets or strips that header; otherwise clients could claim https.
_proxy_header, _, _proxy_value = (p.strip() for p in env.str("SECURE_PROXY_SSL_HEADER", default="").partition(":"))
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), _proxy_value or "https")


MAILERS = conf.mailers(env.str("EMAIL_URL", default=""), DATA_DIR)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Tessera Help Desk <support@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background work (docs/architecture.md, "Background work"). Unset, tasks run in the process that
# queues them, after its commit (what the test suite and one-off commands want); `make run` and the
# production services set "database" (django-tasks-db: rows in this database, run by
# `manage.py db_worker`; tessera/scheduler/task_backend.py writes them more cheaply), and "rq"
# scales out on Redis (`manage.py rqworker`). A dotted path works too.
TASKS_BACKENDS = {
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "database": "tessera.scheduler.task_backend.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
}
_tasks_backend = env.str("TASKS_BACKEND", default="immediate")
TASKS = {"default": {"BACKEND": TASKS_BACKENDS.get(_tasks_backend, _tasks_backend)}}
# The Redis database RQ keeps its queue in (used only with TASKS_BACKEND=rq).
RQ_QUEUES = {"default": {"URL": env.str("TASKS_REDIS_URL", default="redis://127.0.0.1:6379/0"), "DEFAULT_TIMEOUT": 600}}
if TASKS["default"]["BACKEND"] == TASKS_BACKENDS["rq"]:
    INSTALLED_APPS.append("django_rq")  # its rqworker command

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # One line per task run is noise; failures still show.
        "django.tasks": {"level": "WARNING"},
        "mail.log": {"level": "WARNING"},
    },
}

# Help desk policy knobs.
TESSERA = {
    # The public address of this desk, used in links inside emails. Unset, it is the address
    # `make run` serves on (PORT), so links in mail work on any port out of the box.
    "BASE_URL": env.str("TESSERA_BASE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}"),
    "MAX_ATTACHMENT_BYTES": env.int("TESSERA_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024),
    "MAX_ATTACHMENTS": env.int("TESSERA_MAX_ATTACHMENTS", default=10),
    # Programs, scripts, shortcuts, installers, disk images and macro-enabled Office files: what mail
    # gateways refuse. Content is checked too (tessera/tickets/attachments.py): a renamed program is refused.
    "BLOCKED_EXTENSIONS": env.list(
        "TESSERA_BLOCKED_EXTENSIONS",
        default=(  # noqa: SIM905 - one line of extensions reads better than eighty
            ".ade .adp .apk .app .application .appref-ms .appx .appxbundle .bat .cab .chm .cmd .com .cpl .dll"
            " .dmg .diagcab .exe .gadget .hta .img .inf .ins .iso .isp .jar .jnlp .js .jse .ksh .lib .lnk .mde"
            " .msc .msh .msi .msix .msixbundle .msp .mst .nsh .ocx .pif .ps1 .ps1xml .ps2 .psc1 .psd1 .psm1 .reg"
            " .scf .scr .sct .settingcontent-ms .sh .shb .shs .sys .url .vb .vbe .vbs .vhd .vhdx .vxd .ws .wsc"
            " .wsf .wsh .xll .xbap .docm .dotm .xlsm .xltm .xlam .pptm .potm .ppam .ppsm .sldm"
        ).split(),
    ),
    "MAX_SUBJECT_LENGTH": 255,
    "MAX_MESSAGE_LENGTH": env.int("TESSERA_MAX_MESSAGE_LENGTH", default=100_000),
    # How long a reply lock lasts after the last keystroke ("Jane Doe is replying").
    "LOCK_MINUTES": env.int("TESSERA_LOCK_MINUTES", default=3),
    # How often open ticket pages ask who is replying.
    "POLL_SECONDS": env.int("TESSERA_POLL_SECONDS", default=10),
    # How often an open queue asks for new tickets, and the sidebar for fresh counts.
    "QUEUE_POLL_SECONDS": env.int("TESSERA_QUEUE_POLL_SECONDS", default=20),
    "COUNTS_POLL_SECONDS": env.int("TESSERA_COUNTS_POLL_SECONDS", default=30),
    # How long sidebar counts are reused before counting again (0: count on every page).
    "COUNTS_CACHE_SECONDS": env.int("TESSERA_COUNTS_CACHE_SECONDS", default=20),
    # Portal tickets one client address and one email address may open per hour (0: no limit).
    "INTAKE_LIMIT_PER_IP": env.int("TESSERA_INTAKE_LIMIT_PER_IP", default=20),
    "INTAKE_LIMIT_PER_ADDRESS": env.int("TESSERA_INTAKE_LIMIT_PER_ADDRESS", default=5),
    # Help Center sign-ups per hour from one email address and one client address, and how long
    # the verification link works (tessera/portal/registration_views.py).
    "REGISTER_LIMIT_PER_ADDRESS": env.int("TESSERA_REGISTER_LIMIT_PER_ADDRESS", default=10),
    "REGISTER_LIMIT_PER_IP": env.int("TESSERA_REGISTER_LIMIT_PER_IP", default=30),
    "SIGNUP_LINK_HOURS": env.int("TESSERA_SIGNUP_LINK_HOURS", default=48),
    # Reverse proxies in front of Tessera that append the client's address to X-Forwarded-For.
    "TRUSTED_PROXIES": env.int("TESSERA_TRUSTED_PROXIES", default=0),
    # Email. The line above which a reply by mail is read (everything under it is quoted history).
    "REPLY_MARKER": env.str("TESSERA_REPLY_MARKER", default="-- Reply above this line --"),
    # Messages one sender may have processed per hour; more are kept, not posted.
    "MAIL_SENDER_LIMIT_PER_HOUR": env.int("TESSERA_MAIL_SENDER_LIMIT_PER_HOUR", default=30),
    # Larger messages are kept, not posted (the MTA usually refuses them first).
    "MAIL_MAX_MESSAGE_BYTES": env.int("TESSERA_MAIL_MAX_MESSAGE_BYTES", default=40 * 1024 * 1024),
    # How often a notification is tried before agents see it as failed, and the first wait.
    "MAIL_DELIVERY_ATTEMPTS": env.int("TESSERA_MAIL_DELIVERY_ATTEMPTS", default=5),
    "MAIL_RETRY_SECONDS": env.int("TESSERA_MAIL_RETRY_SECONDS", default=60),
    # Periodic jobs (tessera/scheduler): failures in a row before a job is shown as failed, the
    # first wait before a retry (doubling each time), and how long run records are kept.
    "JOB_ATTEMPTS": env.int("TESSERA_JOB_ATTEMPTS", default=5),
    "JOB_RETRY_SECONDS": env.int("TESSERA_JOB_RETRY_SECONDS", default=30),
    "JOB_RUNS_KEEP_DAYS": env.int("TESSERA_JOB_RUNS_KEEP_DAYS", default=30),
    # Minutes without activity after which a signed-in session is signed out (0: never).
    "SESSION_IDLE_MINUTES": env.int("TESSERA_SESSION_IDLE_MINUTES", default=120),
    # Webhooks may reach private, loopback and link-local addresses (or only these CIDR networks).
    "WEBHOOK_ALLOW_PRIVATE": env.bool("TESSERA_WEBHOOK_ALLOW_PRIVATE", default=False),
    "WEBHOOK_ALLOWED_NETWORKS": env.list("TESSERA_WEBHOOK_ALLOWED_NETWORKS", default=[]),
    "WEBHOOK_SETTLE_SECONDS": env.float("TESSERA_WEBHOOK_SETTLE_SECONDS", default=1.0),
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The public forms' spam check (tessera/portal/spam.py): a form sent back sooner than this many
# seconds after it was shown is asked to try again (0: no timing check; the tests use 0).
PORTAL_MIN_SUBMIT_SECONDS = env.int("TESSERA_PORTAL_MIN_SUBMIT_SECONDS", default=3)
