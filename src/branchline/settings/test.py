"""pytest: demo settings on a throw-away SQLite file, fast hashing, generous rate limits."""
import os
import tempfile

from .demo import *  # noqa: F401,F403
from .demo import BRANCHLINE, DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A file (not :memory:) so that the in-thread server used by socket tests shares it.
DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"branchline-test-{os.getpid()}.sqlite3")}
# Tests that are about rate limits lower these again.
BRANCHLINE = {**BRANCHLINE, "ANONYMOUS_GRACE_SECONDS": 2, "MESSAGE_RATE_BURST": 10_000, "FRAME_RATE_BURST": 10_000,
              "HISTORY_PAGES_BURST": 10_000,
              "SIGN_IN_RECHECK_SECONDS": 1,
              # Tests run tasks when they mean to (tests/support/tasks.py), never behind their back.
              "TASK_WORKER_IN_PROCESS": False,
              "ANONYMOUS_SESSIONS_PER_MINUTE": 10_000,
              # Tests change allow-lists inside a transaction whose on-commit never runs.
              "ALLOW_LISTS_CACHE_SECONDS": 0}
STATIC_ROOT = tempfile.mkdtemp(prefix="branchline-static-")
STORAGES = {**STORAGES,  # noqa: F405
            "attachments": {**STORAGES["attachments"],  # noqa: F405
                            "OPTIONS": {**STORAGES["attachments"]["OPTIONS"],  # noqa: F405
                                        "location": tempfile.mkdtemp(prefix="branchline-attachments-")}}}
