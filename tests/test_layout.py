"""The three stages' import rule: engine -> study -> report, never upwards.

Read from the source with ``ast`` (every ``import`` and ``from ... import``, also those inside
functions), so a lazy import inside a function cannot hide a dependency either.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.harness import REPO

SRC = REPO / "src" / "initlab"

#: Stage -> the initlab subpackages it may import (itself included).
ALLOWED = {
    "engine": {"engine"},
    "study": {"engine", "study"},
    "report": {"engine", "study", "report"},
}


def initlab_imports(path: Path) -> set[str]:
    """The ``initlab.<x>`` subpackages a module imports (``from initlab import x`` counts as ``x``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] if node.module != "initlab" else [f"initlab.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "initlab" and len(parts) > 1:
                found.add(parts[1])
    return found


def stage_modules(stage: str) -> list[Path]:
    return sorted((SRC / stage).rglob("*.py"))


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_stage_imports_only_itself_and_lower_stages(stage: str) -> None:
    modules = stage_modules(stage)
    assert modules, f"no modules in src/initlab/{stage}"
    bad = {
        str(path.relative_to(SRC)): sorted(initlab_imports(path) - ALLOWED[stage])
        for path in modules
        if initlab_imports(path) - ALLOWED[stage]
    }
    assert not bad, f"{stage} imports a higher stage (or cli): {bad}"


def test_every_module_lives_in_a_stage() -> None:
    top = sorted(p.name for p in SRC.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "cli.py"], top
    assert {p.name for p in SRC.iterdir() if p.is_dir() and not p.name.startswith("__")} == set(ALLOWED)


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from initlab.report import stats\n    import initlab.study.tables\n")
    assert initlab_imports(module) == {"report", "study"}
