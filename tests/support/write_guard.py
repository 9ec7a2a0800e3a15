"""House rule 1, enforced: every database write made by Branchline code happens inside an
action: some frame of an actions module is on the stack (the outbox rows that
events.publish adds are part of the action's write). Writes with no Branchline frame at
all are Django's own (sessions, auth's last_login) or the tests'."""
import traceback
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "branchline"
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# Loaders of fixture data, not a write path of the product: the demo bank is seeded by
# plain ORM calls (the administration actions arrive with the identity issue).
ALLOWED = {SRC / "web" / "demo_data.py", SRC / "web" / "management" / "commands" / "seed_demo.py"}


def _allowed(path: Path) -> bool:
    return path in ALLOWED or "actions" in path.relative_to(SRC).parts[:-1] or path.stem == "actions" \
        or "migrations" in path.parts


def _djangos_upkeep(stack, innermost_ours) -> bool:
    """Django's own session and auth upkeep, set off by reading request.user: flushing a
    session whose password hash no longer matches, for one."""
    below = stack[stack.index(innermost_ours) + 1:]
    return any(part in frame.filename for frame in below for part in ("django/contrib/auth/", "django/contrib/sessions/"))


class WriteGuard:
    def __init__(self):
        self.violations: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().split(" ", 1)[0].upper() in WRITES:
            stack = traceback.extract_stack()[:-1]
            ours = [frame for frame in stack if Path(frame.filename).is_relative_to(SRC)]
            if ours and not any(_allowed(Path(frame.filename)) for frame in ours) and not _djangos_upkeep(stack, ours[-1]):
                innermost = ours[-1]
                where = f"{Path(innermost.filename).relative_to(SRC)}:{innermost.lineno}"
                self.violations.append(f"{where} {sql.split(' (')[0][:80]}")
        return execute(sql, params, many, context)
