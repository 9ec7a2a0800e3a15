"""House rule 1, enforced: every database write made by Branchline code comes from an
actions module. A write is attributed to the innermost Branchline frame on the stack;
writes made by Django itself (sessions, auth's last_login) or by tests are not ours."""
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


class WriteGuard:
    def __init__(self):
        self.violations: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().split(" ", 1)[0].upper() in WRITES:
            for frame in reversed(traceback.extract_stack()[:-1]):
                path = Path(frame.filename)
                if path.is_relative_to(SRC) and path.name != "write_guard.py":
                    if not _allowed(path):
                        self.violations.append(f"{path.relative_to(SRC)}:{frame.lineno} {sql.split(' (')[0][:80]}")
                    break
        return execute(sql, params, many, context)
