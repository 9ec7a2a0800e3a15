"""House rule 3: the layers (import-linter's contracts in pyproject.toml) and no import
inside a function (to dodge a cycle or otherwise)."""
import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "branchline"


def test_the_layers_are_kept():
    """import-linter with src/ on its path, in a process of its own (in this one it would
    reconfigure logging under the other tests' feet)."""
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--config", str(ROOT / "pyproject.toml"),
                             "--no-cache"], env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]


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
