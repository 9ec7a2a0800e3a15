"""Production: everything from the environment, nothing demo-only. `manage.py check --deploy`
passes for it (tests/test_deploy_hardening.py)."""
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import AUDIT_CHAIN_KEY, DEMO_SECRET_KEY, SECRET_KEY

if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in the environment")
if SECRET_KEY == DEMO_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY is the demo's or too weak: use 50+ random characters")

# The audit trail's HMAC key, apart from SECRET_KEY (docs/adr/0012): rotating SECRET_KEY must
# not make the whole trail fail verification, and holding one must not be holding both.
if len(AUDIT_CHAIN_KEY) < 32 or AUDIT_CHAIN_KEY == SECRET_KEY:
    raise ImproperlyConfigured("BRANCHLINE_AUDIT_KEY must be set: 32+ random characters, not the SECRET_KEY")

DEBUG = False
# Every member of staff signs in with a second factor (docs/adr/0015); no way to relax it here.
if BRANCHLINE["STAFF_SECOND_FACTOR"] != "required":  # noqa: F405
    raise ImproperlyConfigured("BRANCHLINE_STAFF_SECOND_FACTOR cannot be relaxed in production")

# HTTPS only: the browser is told to stay on HTTPS (HSTS), plain HTTP is redirected, cookies
# never travel in clear. Behind the bank's TLS-terminating proxy, X-Forwarded-Proto says the
# client spoke HTTPS; it is believed from BRANCHLINE_TRUSTED_PROXIES only (core/http.py
# drops it from anyone else).
# BRANCHLINE_PLAIN_HTTP=1 is for tests and benchmarks on 127.0.0.1, never for a deployment.
PLAIN_HTTP = os.environ.get("BRANCHLINE_PLAIN_HTTP") == "1"  # noqa: F405
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = not PLAIN_HTTP
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's health check speaks plain HTTP
SECURE_HSTS_SECONDS = 0 if PLAIN_HTTP else int(os.environ.get("BRANCHLINE_HSTS_SECONDS", str(365 * 24 * 3600)))  # noqa: F405
# Banks' domains are HTTPS-only throughout; a bank that is not ready for the browsers' preload
# list (it covers every subdomain, and leaving it takes months) turns these off.
SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("BRANCHLINE_HSTS_INCLUDE_SUBDOMAINS", "1") == "1"  # noqa: F405
SECURE_HSTS_PRELOAD = os.environ.get("BRANCHLINE_HSTS_PRELOAD", "1") == "1"  # noqa: F405
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not PLAIN_HTTP

# The bank's sign-in for customers (docs/adr/0013) and for staff (docs/adr/0017), when
# configured: over HTTPS (the provider's documents and our callback), with our client's
# secret; for customers, a widget URL the callback can append its #fragment to.
def _check_oidc(config: dict, prefix: str, callback: str) -> None:
    scheme = "http" if PLAIN_HTTP else "https"
    if not config["ISSUER"].startswith(f"{scheme}://") or not config["REDIRECT_URI"].startswith(f"{scheme}://"):
        raise ImproperlyConfigured(f"{prefix}_ISSUER and _REDIRECT_URI must be https:// URLs")
    if not config["REDIRECT_URI"].endswith(callback):
        raise ImproperlyConfigured(f"{prefix}_REDIRECT_URI must be this server's {callback}")
    if not config["CLIENT_ID"] or len(config["CLIENT_SECRET"]) < 16:
        raise ImproperlyConfigured(f"{prefix}_CLIENT_ID and _CLIENT_SECRET (16+ characters) are needed")


if CUSTOMER_OIDC["ISSUER"]:  # noqa: F405
    _check_oidc(CUSTOMER_OIDC, "BRANCHLINE_CUSTOMER_OIDC", "/sso/callback")  # noqa: F405
    if "#" in CUSTOMER_OIDC["WIDGET_URL"]:  # noqa: F405
        raise ImproperlyConfigured("BRANCHLINE_CUSTOMER_OIDC_WIDGET_URL must not have a #fragment of its own")
if STAFF_OIDC["ISSUER"]:  # noqa: F405
    _check_oidc(STAFF_OIDC, "BRANCHLINE_STAFF_OIDC", "/console/login/sso/callback")  # noqa: F405
