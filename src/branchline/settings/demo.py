"""`make demo`: embedded SQLite by default, one process, demo sign-in for customers."""
from .base import *  # noqa: F401,F403
from .base import SECRET_KEY as _SECRET_KEY

DEBUG = True
SECRET_KEY = _SECRET_KEY or "demo-only-not-secret-0b6e1d6c1f4a4c7f9a3f"
DEMO_SSO_ENABLED = True
