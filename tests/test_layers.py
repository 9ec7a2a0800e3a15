"""House rule 3: no import inside a function (to dodge a cycle or otherwise); the layers
themselves are import-linter's contracts in pyproject.toml, run by `make test`."""
import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "branchline"


def test_no_module_imports_inside_a_function():
    found = []
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found += [f"{path.relative_to(SRC)}:{inner.lineno}" for inner in ast.walk(node)
                          if isinstance(inner, (ast.Import, ast.ImportFrom))]
    assert found == []
