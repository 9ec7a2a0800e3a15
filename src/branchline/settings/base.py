"""Settings shared by every deployment.

Storage and the event bus are chosen from the environment so that one code base runs
embedded (SQLite + in-process bus, one process) and scaled out (PostgreSQL + Redis, many
processes): DATABASE_URL and REDIS_URL.
"""
import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parents[3]  # the checkout
VAR_DIR = Path(os.environ.get("BRANCHLINE_VAR_DIR", BASE_DIR / "var"))

SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEMO_SECRET_KEY = "demo-only-not-secret-0b6e1d6c1f4a4c7f9a3f"  # the demo's fallback; production refuses it
# The audit trail's HMAC key (audit/chain.py). Set it, and keep it, apart from SECRET_KEY: a
# rotated SECRET_KEY would otherwise make every earlier record fail verification.
AUDIT_CHAIN_KEY = os.environ.get("BRANCHLINE_AUDIT_KEY", "")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
# Public origins of the console when a proxy rewrites Host (also trusted for staff sockets).
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# The bank's load balancers / WAF (addresses or networks, comma-separated): only they may say
# who the client is (X-Forwarded-For) and that it spoke HTTPS (X-Forwarded-Proto). core/http.py.
try:
    TRUSTED_PROXIES = [ipaddress.ip_network(n.strip(), strict=False)
                       for n in os.environ.get("BRANCHLINE_TRUSTED_PROXIES", "").split(",") if n.strip()]
except ValueError as error:
    raise ImproperlyConfigured(f"BRANCHLINE_TRUSTED_PROXIES: {error}") from None

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves the API docs page's assets locally (no CDN)
    "django_tasks_db",  # the task queue: durable subscribers (the outbox) and sweeps
    "django_otp",  # staff's second factor (docs/adr/0015): authenticator apps, recovery codes
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "branchline.core",
    "branchline.accounts",
    "branchline.contacts",
    "branchline.cases",
    "branchline.connectors",
    "branchline.routing",
    "branchline.knowledge",
    "branchline.conversations",
    "branchline.realtime",
    "branchline.audit",
    "branchline.web",
    # The administration (accounts/administration.py): our own site, no autodiscovery; last,
    # so that web/templates/admin/ overrides its templates.
    "django.contrib.admin.apps.SimpleAdminConfig",
]

MIDDLEWARE = [
    "branchline.core.http.TrustedProxyMiddleware",
    "branchline.accounts.allow_list_middleware.IpAllowListMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "branchline.core.middleware.ApiErrorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "branchline.accounts.staff_sessions.AuthenticationMiddleware",  # user read with the session
    "branchline.accounts.staff_sessions.StaffActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "branchline.urls"
ASGI_APPLICATION = "branchline.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/console/login/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "branchline.web.context_processors.languages",
            ],
        },
    },
]

# Threads the socket gateway runs database work on (realtime/connection.py). Each keeps a
# connection checked out between its calls, so the pool below must hold them and more.
GATEWAY_DB_THREADS = int(os.environ.get("BRANCHLINE_DB_THREADS", "8"))
# Threads HTTP requests run on, whole (core/http_handler.py); each keeps a connection too.
HTTP_THREADS = int(os.environ.get("BRANCHLINE_HTTP_THREADS", "6"))

# The hot statements (core/sql.py) are prepared on PostgreSQL. A PgBouncer in transaction
# mode older than 1.21 cannot carry prepared statements: set 0 there.
DB_PREPARED_STATEMENTS = os.environ.get("BRANCHLINE_DB_PREPARED_STATEMENTS", "1") == "1"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'branchline.sqlite3'}"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI every request runs in its own context, so persistent per-thread
    # connections multiply (measured: one process, 10 readers, ~90 connections in 2 s and
    # "too many clients"). One psycopg pool per process instead: processes x max_size must
    # stay under the server's max_connections (100 by default). A request that cannot get
    # a connection within `timeout` is answered 503 (api.py), as is a statement cut off by
    # statement_timeout; connect_timeout and TCP keepalives bound a database that hangs.
    DB_POOL_MAX = int(os.environ.get("BRANCHLINE_DB_POOL_MAX", "16"))
    if DB_POOL_MAX < GATEWAY_DB_THREADS + HTTP_THREADS + 2:
        raise ImproperlyConfigured(
            f"BRANCHLINE_DB_POOL_MAX ({DB_POOL_MAX}) must exceed BRANCHLINE_DB_THREADS ({GATEWAY_DB_THREADS}) + "
            f"BRANCHLINE_HTTP_THREADS ({HTTP_THREADS}) by at least 2 (the task worker, management work)")
    statement_ms = round(1000 * float(os.environ.get("BRANCHLINE_DB_STATEMENT_TIMEOUT", "10")))
    url_options = DATABASES["default"].get("OPTIONS", {})
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections; Django must not
    DATABASES["default"]["OPTIONS"] = {
        **url_options,
        "pool": {
            "min_size": int(os.environ.get("BRANCHLINE_DB_POOL_MIN", "2")),
            "max_size": DB_POOL_MAX,
            "timeout": float(os.environ.get("BRANCHLINE_DB_POOL_TIMEOUT", "5")),
        },
        "connect_timeout": int(os.environ.get("BRANCHLINE_DB_CONNECT_TIMEOUT", "5")),
        # None turns prepared statements off altogether; a threshold never reached keeps
        # psycopg from preparing the ORM's statements on its own, and lets core/sql.py
        # prepare its few.
        "prepare_threshold": 2**31 - 1 if DB_PREPARED_STATEMENTS else None,
        "options": f"{url_options.get('options', '')} -c statement_timeout={statement_ms}".strip(),
        # A peer that vanishes without a word (a cut network) is found in ~25 s.
        "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the single writer; IMMEDIATE makes every write
    # transaction take the write lock up front, so concurrent senders queue instead of
    # failing with "database is locked" half-way through.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

REDIS_URL = os.environ.get("REDIS_URL", "")
# Name of the pub/sub channel: processes sharing it form one deployment.
BUS_CHANNEL = os.environ.get("BRANCHLINE_BUS_CHANNEL", "branchline:events")

# The shared cache holds the rate-limit budgets, checked inside every send: a Redis that
# does not answer within this many seconds counts as away, and the rate limit then skips
# it for CACHE_RETRY_SECONDS (core/ratelimit.py) instead of waiting on every send.
CACHE_TIMEOUT_SECONDS = float(os.environ.get("BRANCHLINE_CACHE_TIMEOUT", "0.05"))
CACHE_RETRY_SECONDS = float(os.environ.get("BRANCHLINE_CACHE_RETRY_SECONDS", "5"))

if REDIS_URL:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Deployments (and test runs) sharing one Redis keep their keys apart.
            "KEY_PREFIX": os.environ.get("BRANCHLINE_CACHE_PREFIX", "branchline"),
            "OPTIONS": {
                "pool_class": "branchline.core.cache.ProcessConnectionPool",
                "socket_timeout": CACHE_TIMEOUT_SECONDS,
                "socket_connect_timeout": CACHE_TIMEOUT_SECONDS,
                # Retrying within a call would multiply the timeout; the breaker decides.
                "retry": Retry(NoBackoff(), 0),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Tasks live in the database: enqueued inside an action's transaction, they commit with it
# (the outbox of events.publish). A worker runs them: `manage.py db_worker`, or in-process.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Who hears which domain event (like ROOT_URLCONF, named here so `events` imports no app).
BRANCHLINE_SUBSCRIPTIONS = "branchline.subscriptions.SUBSCRIPTIONS"

# Argon2id (memory-hard) for staff passwords; a PBKDF2 hash from before is still accepted and
# rewritten as Argon2 at the person's next sign-in.
OTP_TOTP_ISSUER = "Branchline"  # the name authenticator apps show
OTP_TOTP_THROTTLE_FACTOR = 1  # django-otp: wrong codes slow the next try down exponentially

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Django's database sessions and ModelBackend, each read in plain SQL (accounts/staff_sessions.py).
SESSION_ENGINE = "branchline.accounts.staff_sessions"
AUTHENTICATION_BACKENDS = ["branchline.accounts.staff_sessions.StaffBackend"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600  # the longest a staff sign-in lasts, active or not (one working day)
# Requests carry JSON and forms only (files come with their own upload limits later).
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
CSRF_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "en"
# The reader's choice (the django_language cookie the language menus set) or their browser's
# Accept-Language picks one; system lines and dates follow it (docs/protocol.md §18).
LANGUAGES = [("en", _("English")), ("pl", _("Polish")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "src" / "branchline" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# The staff console's bundle, built from frontend/ by `make assets` (git-ignored).
STATICFILES_DIRS = [BASE_DIR / "frontend" / "dist"]

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    # blob: the widget shows files it fetched with its token (docs/adr/0021), and plays recordings.
    "img-src": [CSP.SELF, "data:", "blob:"],
    "media-src": [CSP.SELF, "blob:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],  # staff pages are never framed; see web.views.chat_page
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
}
X_FRAME_OPTIONS = "DENY"
# Origins (besides our own) allowed to embed the customer widget in an iframe, e.g. the
# bank's public site. Staff pages can never be framed.
WIDGET_FRAME_ANCESTORS = [o for o in os.environ.get("BRANCHLINE_WIDGET_FRAME_ANCESTORS", "").split(",") if o]

# --- Branchline limits (documented in docs/protocol.md) ---
# django-otp's own pause after a wrong code (1 s, doubling) refuses the right code typed within it
# with the same "not right" answer; guessing is already limited by the sign-in budgets
# (accounts/actions/budgets.py), which say "wait" when they refuse.
OTP_TOTP_THROTTLE_FACTOR = 0

BRANCHLINE = {
    "DB_PREPARED_STATEMENTS": DB_PREPARED_STATEMENTS,
    "MESSAGE_MAX_CHARS": 4000,
    "FRAME_MAX_BYTES": 16 * 1024,
    "HISTORY_PAGE_MAX": 100,
    # History pages per reader (customer or member of staff, all devices): sustained and burst.
    "HISTORY_PAGES_PER_SECOND": float(os.environ.get("BRANCHLINE_HISTORY_PAGES_RATE", "5")),
    "HISTORY_PAGES_BURST": int(os.environ.get("BRANCHLINE_HISTORY_PAGES_BURST", "100")),
    # Anonymous customers are live only: once every socket of theirs has been closed for
    # this long, their conversation ends.
    "ANONYMOUS_GRACE_SECONDS": int(os.environ.get("BRANCHLINE_ANONYMOUS_GRACE_SECONDS", "60")),
    # An agent with no socket open for this long loses conversations whose customer wrote
    # meanwhile back to the queue (the away-agent rule, docs/protocol.md §9).
    "AGENT_AWAY_SECONDS": int(os.environ.get("BRANCHLINE_AGENT_AWAY_SECONDS", "90")),
    # The post-resolve window (docs/protocol.md §11): a customer's message in a conversation
    # whose case was resolved at most this long ago joins that resolved case ("Thank you");
    # later, the conversation ends and the message starts a new one, in a new case.
    "CASE_POST_RESOLVE_SECONDS": int(os.environ.get("BRANCHLINE_CASE_POST_RESOLVE_SECONDS", "900")),
    "CUSTOMER_TOKEN_HOURS": 12,
    # Run the task worker inside the server process (embedded, one-process deployments).
    # With several processes, run `manage.py db_worker` beside them instead.
    "TASK_WORKER_IN_PROCESS": os.environ.get("BRANCHLINE_TASK_WORKER_IN_PROCESS", "0") == "1",
    # Token bucket per sender: sustained rate and burst, for messages (API and socket)
    # and for every socket frame.
    "MESSAGE_RATE_PER_SECOND": float(os.environ.get("BRANCHLINE_MESSAGE_RATE", "5")),
    "MESSAGE_RATE_BURST": int(os.environ.get("BRANCHLINE_MESSAGE_BURST", "20")),
    "FRAME_RATE_PER_SECOND": float(os.environ.get("BRANCHLINE_FRAME_RATE", "20")),
    "FRAME_RATE_BURST": int(os.environ.get("BRANCHLINE_FRAME_BURST", "60")),
    "SOCKET_SEND_QUEUE_MAX": 1000,
    # Items a socket is sent from the database (resume in hello or a resume frame, gap
    # filling): a token bucket per socket, and pages read only once the socket has sent
    # the previous one.
    "RESUME_ITEMS_BURST": int(os.environ.get("BRANCHLINE_RESUME_ITEMS_BURST", "1000")),
    "RESUME_ITEMS_PER_SECOND": float(os.environ.get("BRANCHLINE_RESUME_ITEMS_PER_SECOND", "100")),
    "RESUME_PAGE_ITEMS": 100,
    # Per client address: new anonymous sessions.
    "ANONYMOUS_SESSIONS_PER_MINUTE": int(os.environ.get("BRANCHLINE_ANONYMOUS_SESSIONS_PER_MINUTE", "30")),
    # How long a process may use IP allow-lists it read before reading them again.
    "ALLOW_LISTS_CACHE_SECONDS": float(os.environ.get("BRANCHLINE_ALLOW_LISTS_CACHE_SECONDS", "5")),
    # Refused requests (IP allow-lists) recorded in the audit trail, per surface per minute.
    "REFUSALS_RECORDED_PER_MINUTE": int(os.environ.get("BRANCHLINE_REFUSALS_RECORDED_PER_MINUTE", "100")),
    # Failed staff sign-ins per 15 minutes: per account from one address, per account from
    # anywhere, per client address (accounts/actions._sign_in_budgets).
    "SIGN_IN_FAILURES_PER_ACCOUNT_AND_ADDRESS": int(
        os.environ.get("BRANCHLINE_SIGN_IN_FAILURES_PER_ACCOUNT_AND_ADDRESS", "10")),
    "SIGN_IN_FAILURES_PER_ACCOUNT": int(os.environ.get("BRANCHLINE_SIGN_IN_FAILURES_PER_ACCOUNT", "100")),
    "SIGN_IN_FAILURES_PER_ADDRESS": int(os.environ.get("BRANCHLINE_SIGN_IN_FAILURES_PER_ADDRESS", "50")),
    "HELLO_TIMEOUT_SECONDS": 10,
    # Open sockets per customer, per member of staff and per client address, counted by
    # each server process: beyond them a new socket is refused (too_many_sockets, 4429).
    "SOCKETS_PER_CUSTOMER": int(os.environ.get("BRANCHLINE_SOCKETS_PER_CUSTOMER", "10")),
    "SOCKETS_PER_STAFF": int(os.environ.get("BRANCHLINE_SOCKETS_PER_STAFF", "20")),
    "SOCKETS_PER_ADDRESS": int(os.environ.get("BRANCHLINE_SOCKETS_PER_ADDRESS", "200")),
    # How often open sockets re-check that their sign-in still holds (sign-out, expiry).
    # A staff session ends after this long without activity (accounts/staff_sessions.py).
    "STAFF_IDLE_MINUTES": int(os.environ.get("BRANCHLINE_STAFF_IDLE_MINUTES", "30")),
    "SIGN_IN_RECHECK_SECONDS": int(os.environ.get("BRANCHLINE_SIGN_IN_RECHECK_SECONDS", "60")),
    # How often each process looks for conversations to auto-close (their channel's hours).
    "AUTO_CLOSE_EVERY_SECONDS": int(os.environ.get("BRANCHLINE_AUTO_CLOSE_EVERY_SECONDS", "60")),
    # Staff's second factor: "required" (production refuses anything else) or "optional"
    # (only those who set one up are asked for it; the demo and the tests).
    "STAFF_SECOND_FACTOR": os.environ.get("BRANCHLINE_STAFF_SECOND_FACTOR", "required"),
    # Passkeys are bound to this domain (the WebAuthn relying party id): the console's host
    # name, or a parent domain of it. Empty: the host name each request came to (which
    # ALLOWED_HOSTS limits). A passkey registered under one id does not work under another.
    "WEBAUTHN_RP_ID": os.environ.get("BRANCHLINE_WEBAUTHN_RP_ID", ""),
    # Ended customer sessions are kept this long (for an investigation), then deleted.
    "CUSTOMER_SESSIONS_KEPT_DAYS": int(os.environ.get("BRANCHLINE_CUSTOMER_SESSIONS_KEPT_DAYS", "30")),
    # A member of staff reading a customer's data is recorded at most this often per customer and kind.
    "READ_AUDIT_SECONDS": int(os.environ.get("BRANCHLINE_READ_AUDIT_SECONDS", "300")),
    # Administrators set how long the audit trail is kept (PUT /api/admin/audit-retention), never
    # shorter than this; the retention task prunes older records this often (realtime/lifespan.py).
    "AUDIT_RETENTION_MIN_DAYS": int(os.environ.get("BRANCHLINE_AUDIT_RETENTION_MIN_DAYS", "90")),
    "AUDIT_PRUNE_EVERY_SECONDS": int(os.environ.get("BRANCHLINE_AUDIT_PRUNE_EVERY_SECONDS", "3600")),
    # Audit records per page of GET /api/integrations/audit-records.
    "AUDIT_EXPORT_PAGE_MAX": 1000,
    # Customer sign-ins through the bank's provider started, redeemed or exchanged per address.
    "SSO_SIGN_INS_PER_MINUTE": int(os.environ.get("BRANCHLINE_SSO_SIGN_INS_PER_MINUTE", "30")),
    # Files (docs/adr/0021). The server's largest file; each channel may set a smaller one.
    # A request body larger than this (and a little for its form) is refused unread.
    "FILE_MAX_MB": int(os.environ.get("BRANCHLINE_FILE_MAX_MB", "25")),
    # Images with more pixels than this are refused before they are decoded (decompression bombs).
    "IMAGE_MAX_PIXELS": int(os.environ.get("BRANCHLINE_IMAGE_MAX_PIXELS", "40000000")),
    # Uploads per sender per minute (each is scanned).
    "FILE_UPLOADS_PER_MINUTE": int(os.environ.get("BRANCHLINE_FILE_UPLOADS_PER_MINUTE", "30")),
    # Files a customer may keep uploaded and not yet sent (each up to FILE_MAX_MB).
    "ATTACHMENTS_UNSENT_MAX": int(os.environ.get("BRANCHLINE_ATTACHMENTS_UNSENT_MAX", "5")),
    # An uploaded file no message sent within this long is deleted (the files sweep).
    "ATTACHMENT_UNSENT_HOURS": int(os.environ.get("BRANCHLINE_ATTACHMENT_UNSENT_HOURS", "24")),
    # ClamAV's clamd, which scans every file before it is stored: its local socket's path, or
    # tcp://host:port. None set: every upload is refused (scanner_unavailable), never stored
    # unscanned. Each exchange with it waits at most CLAMD_TIMEOUT_SECONDS.
    "CLAMD": os.environ.get("BRANCHLINE_CLAMD", ""),
    "CLAMD_TIMEOUT_SECONDS": float(os.environ.get("BRANCHLINE_CLAMD_TIMEOUT_SECONDS", "20")),
}

# Where files sent in conversations are kept (docs/adr/0021): never served as static files,
# only through the permission-checked download (GET /api/staff/files/{id}, /api/customer/files/{id}).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "attachments": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": os.environ.get("BRANCHLINE_ATTACHMENTS_DIR", str(VAR_DIR / "attachments")),
                                "base_url": None, "file_permissions_mode": 0o600, "directory_permissions_mode": 0o700}},
}

# Customers' sign-in through the bank's OpenID provider (accounts/oidc.py, docs/adr/0013).
# No issuer: no customer SSO (anonymous customers only). REDIRECT_URI is this server's
# /sso/callback as the bank registered it with the provider; MOBILE_CLIENT_IDS are the
# audiences of the app's own ID tokens that POST /api/customer/sessions/oidc-token accepts.
def _relying_party(prefix: str) -> dict:
    """What every OpenID relying party of ours needs (accounts/oidc.RelyingParty), from
    BRANCHLINE_<prefix>_*."""
    def env(name: str, default: str = "") -> str:
        return os.environ.get(f"BRANCHLINE_{prefix}_{name}", default)

    return {
        "ISSUER": env("ISSUER").rstrip("/"),
        "CLIENT_ID": env("CLIENT_ID"),
        "CLIENT_SECRET": env("CLIENT_SECRET"),
        "REDIRECT_URI": env("REDIRECT_URI"),
        "SCOPES": env("SCOPES", "openid profile"),
        # Asymmetric only: a shared-secret (HS*) or unsigned token is refused whatever it claims.
        "ALGORITHMS": ["RS256", "PS256", "ES256"],
        # Every call to the provider (discovery, keys, token) gives up after this long.
        "TIMEOUT_SECONDS": float(env("TIMEOUT", "5")),
        "CLOCK_SKEW_SECONDS": 60,
        # A sign-in started and not finished within this long is void (its state and nonce with it).
        "LOGIN_MINUTES": 10,
        # A back-channel logout token is accepted this long after it was issued, once (its jti).
        "LOGOUT_TOKEN_MAX_AGE_SECONDS": 300,
    }


CUSTOMER_OIDC = {
    **_relying_party("CUSTOMER_OIDC"),
    "MOBILE_CLIENT_IDS": [c for c in os.environ.get("BRANCHLINE_CUSTOMER_OIDC_MOBILE_CLIENT_IDS", "").split(",") if c],
    # The widget redeems the code the callback hands it within this long, once.
    "HANDOVER_SECONDS": 120,
    # The app exchanges an ID token issued at most this long ago (a fresh sign-in's).
    "APP_TOKEN_MAX_AGE_SECONDS": 300,
    # Where the callback sends the browser back to, with #sso=<code> or #sso_error=<code>.
    "WIDGET_URL": os.environ.get("BRANCHLINE_CUSTOMER_OIDC_WIDGET_URL", "/chat/"),
}

# Staff single sign-on through the bank's workforce OpenID provider (accounts/actions/staff_sso.py,
# docs/adr/0017). Optional: no issuer, no button; passwords keep working either way.
# REDIRECT_URI is this server's /console/login/sso/callback. A member of staff's first sign-in
# is linked to the Branchline account whose username is the USERNAME_CLAIM's value; from then
# on the provider's issuer and subject name them. PROVIDER_MFA=1 accepts the provider's own
# multi-factor sign-in (an `amr` claim with "mfa") in place of Branchline's second factor.
STAFF_OIDC = {
    **_relying_party("STAFF_OIDC"),
    "USERNAME_CLAIM": os.environ.get("BRANCHLINE_STAFF_OIDC_USERNAME_CLAIM", "preferred_username"),
    "PROVIDER_MFA": os.environ.get("BRANCHLINE_STAFF_OIDC_PROVIDER_MFA", "0") == "1",
    "LABEL": os.environ.get("BRANCHLINE_STAFF_OIDC_LABEL", "Sign in with the bank's single sign-on"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
