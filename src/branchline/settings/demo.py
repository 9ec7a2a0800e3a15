"""`make demo`: embedded SQLite by default, one process; customers sign in with the demo bank's real
OpenID provider (scripts/demo_idp.py, configured by the Makefile)."""
from .base import *  # noqa: F401,F403
from .base import DEMO_SECRET_KEY
from .base import SECRET_KEY as _SECRET_KEY

DEBUG = True
SECRET_KEY = _SECRET_KEY or DEMO_SECRET_KEY
# One process: it runs its own task worker (durable event subscribers such as the audit trail).
BRANCHLINE = {**BRANCHLINE, "TASK_WORKER_IN_PROCESS": os.environ.get("BRANCHLINE_TASK_WORKER_IN_PROCESS", "1") == "1"}  # noqa: F405
# Easy to try: only staff who set up an authenticator are asked for it (production requires it).
BRANCHLINE["STAFF_SECOND_FACTOR"] = os.environ.get("BRANCHLINE_STAFF_SECOND_FACTOR", "optional")  # noqa: F405
