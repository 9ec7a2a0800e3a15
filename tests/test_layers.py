"""House rule 3: the layers (import-linter's contracts in pyproject.toml) and no import
inside a function (to dodge a cycle or otherwise)."""
import ast
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "branchline"


def test_the_layers_are_kept():
    """Run here rather than as a bare `lint-imports`, which needs src/ on the path: pytest
    puts it there (pyproject.toml), so the check holds wherever the suite runs."""
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0


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
