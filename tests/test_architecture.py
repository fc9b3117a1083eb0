"""The package's architecture rules that import-linter does not check."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fidelity"

#: Function-body imports of fidelity modules that are allowed: none. (Lazy public exports
#: go through ``fidelity.__getattr__``, which uses importlib.)
ALLOWED_BODY_IMPORTS: set[tuple[str, str]] = set()


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE.parent).as_posix(), path.read_text()


def test_split_providers_is_called_only_by_the_scenario_layer():
    callers = {
        name
        for name, text in _sources()
        if "split_providers(" in text.replace("def split_providers(", "")
    }
    assert callers <= {"fidelity/scenario.py", "fidelity/split/__init__.py"}, callers


def test_no_fidelity_import_inside_a_function_body():
    found = set()
    for name, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith(
                    "fidelity"
                ):
                    found.add((name, inner.module))
                elif isinstance(inner, ast.Import) and any(
                    a.name.startswith("fidelity") for a in inner.names
                ):
                    found.add((name, inner.names[0].name))
    assert found <= ALLOWED_BODY_IMPORTS, sorted(found - ALLOWED_BODY_IMPORTS)
