"""Style: ruff (rules and line length in pyproject.toml) on the Python code, snakefmt on the workflow.

These check; they never rewrite. To fix what they report: ``ruff check --fix`` for imports,
``ruff format src tests benchmarks`` and ``snakefmt Snakefile workflow/rules`` for layout.
"""

from __future__ import annotations

import subprocess

from tests import harness
from tests.harness import REPO

#: The Python code ruff checks and formats.
PYTHON_PATHS = ("src", "tests", "benchmarks")
#: The workflow files snakefmt lays out.
WORKFLOW_PATHS = ("Snakefile", "workflow/rules")


def _run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)


def test_ruff_check():
    run = _run(*harness.python_tool("ruff"), "check", "--no-cache", *PYTHON_PATHS)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def test_ruff_format():
    run = _run(*harness.python_tool("ruff"), "format", "--check", "--no-cache", *PYTHON_PATHS)
    assert run.returncode == 0, "run `ruff format src tests benchmarks`:\n" + run.stdout[-6000:] + run.stderr[-2000:]


def test_snakefmt():
    run = _run(*harness.python_tool("snakefmt"), "--check", *WORKFLOW_PATHS)
    assert run.returncode == 0, "run `snakefmt Snakefile workflow/rules`:\n" + run.stdout[-4000:] + run.stderr[-4000:]


def test_ruff_is_configured_as_the_code_is_written():
    """The rule set and line length live in pyproject.toml, once; nothing is switched off wholesale."""
    import tomllib

    ruff = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]
    assert ruff["line-length"] == 120
    assert {"E", "F", "W", "I", "UP", "B"} <= set(ruff["lint"]["select"])
    assert not ruff["lint"].get("ignore"), "a rule wrong for this code base is justified where it is ignored"
