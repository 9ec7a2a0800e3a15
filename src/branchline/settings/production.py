"""Production: everything from the environment, nothing demo-only."""
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import SECRET_KEY

if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in the environment")

DEBUG = False
# The demo sign-in trusts whoever clicks it; it must never be reachable here, whatever
# the environment says.
DEMO_SSO_ENABLED = False
SESSION_COOKIE_SECURE = os.environ.get("BRANCHLINE_INSECURE_COOKIES") != "1"  # noqa: F405
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
