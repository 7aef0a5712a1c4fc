"""The test harness: the repository's paths and configs, one way to run Snakemake, one way to run
the headless browser. Plain functions and constants; tests/conftest.py serves them as fixtures
and enforces the ``slow`` rule through :func:`require_slow`.

``slow`` marks a test that starts Snakemake (a dry run too), a browser or a SLURM cluster;
``python -m pytest -m "not slow"`` is the fast loop. The runners here fail a test that does one of
these without the marker, so the fast loop cannot quietly grow slow ones.
"""

from __future__ import annotations

import copy
import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

#: The repository root (this checkout).
REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
CONFIGS = REPO / "config"

#: The report's sections, in order (``<section id=...>``).
SECTION_IDS = (
    "exercise-1",
    "exercise-2",
    "exercise-3",
    "next-probe",
    "criteria",
    "lesson-claims",
    "lesson-reproduced",
    "signal-through-depth",
    "theory",
    "training",
    "comparing-seeds",
    "evidence-to-keep",
    "provenance",
)

#: A hang guard for one Snakemake run, not a performance bound: generous for a loaded machine.
SNAKEMAKE_TIMEOUT_S = 1800


# ---------------------------------------------------------------------------------------------
# the slow rule


class _Current:
    """The test pytest is setting up, running or tearing down (set by tests/conftest.py)."""

    nodeid: str | None = None
    slow: bool = True  # outside pytest (a script importing the harness) nothing is enforced


current = _Current()


def require_slow(what: str) -> None:
    """Fail the current test unless it is marked ``slow``: it does ``what`` (starts Snakemake, a
    browser, a SLURM cluster), which the fast loop leaves out."""
    if not current.slow:
        import pytest

        pytest.fail(f"{current.nodeid} {what} but is not marked slow: add @pytest.mark.slow", pytrace=False)


#: Fixtures (tests/conftest.py, tests/cluster/conftest.py) that make a test slow: a browser, a
#: SLURM cluster, a study run through the workflow.
SLOW_FIXTURES = frozenset(
    {"chromium", "quick_study", "quick_study_run", "other_seeds_study", "slurm_cluster", "require_slurm"}
)


def unmarked_slow_fixtures(item) -> set[str]:
    """The slow fixtures a test (a pytest item) uses without being marked ``slow`` (empty: fine)."""
    if item.get_closest_marker("slow") is not None:
        return set()
    return SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))


# ---------------------------------------------------------------------------------------------
# configs


@functools.cache
def _parsed(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def load_config(name: str) -> dict:
    """``config/NAME`` parsed (a fresh copy: change it freely)."""
    return copy.deepcopy(_parsed(CONFIGS / name))


def write_config(folder: Path, config: dict | str, name: str = "config.yaml") -> Path:
    """Write ``config`` (a dict, or YAML text as is) to ``folder/name``; returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(config if isinstance(config, str) else yaml.safe_dump(config))
    return path


# ---------------------------------------------------------------------------------------------
# Snakemake


def snakemake_command(
    folder: Path, config: Path, *args: str, snakefile: Path = SNAKEFILE, interrupt_after: int | None = None
) -> list[str]:
    """The command line of ``snakemake ARGS`` on ``config`` in ``folder`` with the repository's
    Snakefile (or ``snakefile``). Targets go in ``args`` (before ``--configfile``, which takes
    several files).

    ``interrupt_after``: run under ``timeout --foreground -s INT`` that many seconds, so that a
    run past it is interrupted as Ctrl-C would (snakemake cancels its cluster jobs) rather than
    killed; ``--foreground`` signals snakemake alone, and once.
    """
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        *args,
        "--snakefile",
        str(snakefile),
        "--directory",
        str(folder),
        "--configfile",
        str(config),
    ]
    if interrupt_after is not None:
        cmd = ["timeout", "--foreground", "-s", "INT", "-k", "30", str(interrupt_after), *cmd]
    return cmd


def run_snakemake(
    folder: Path,
    config: Path,
    *args: str,
    snakefile: Path = SNAKEFILE,
    interrupt_after: int | None = None,
    timeout: float = SNAKEMAKE_TIMEOUT_S,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run :func:`snakemake_command` (output captured as text). Only in a test marked ``slow``:
    Snakemake's start-up alone takes about 2 s, a dry run about 2.3 s on a 2-core machine."""
    require_slow("starts Snakemake")
    if interrupt_after is not None:
        timeout = interrupt_after + 60
    return subprocess.run(
        snakemake_command(folder, config, *args, snakefile=snakefile, interrupt_after=interrupt_after),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def run_config_text(folder: Path, text: str) -> subprocess.CompletedProcess:
    """The whole study (``--cores 1``) in ``folder`` on a config given as YAML text: for a config
    the workflow should refuse before any job."""
    return run_snakemake(folder, write_config(folder, text, "bad.yaml"), "--cores", "1")


def planned_jobs(
    folder: Path, config: Path, *targets: str, snakefile: Path = SNAKEFILE, env: dict[str, str] | None = None
) -> dict[str, int]:
    """Jobs per rule that a dry run plans (Snakemake's 'Job stats' table; empty: nothing to do)."""
    run = run_snakemake(folder, config, *targets, "--dry-run", "--cores", "2", snakefile=snakefile, env=env)
    assert run.returncode == 0, run.stderr
    counts: dict[str, int] = {}
    in_table = False
    for line in run.stdout.splitlines():
        if line.startswith("job "):
            in_table = True
            continue
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if in_table and match and match[1] != "total":
            counts[match[1]] = int(match[2])
        elif in_table and line.startswith("total"):
            break
    return counts


@dataclass(frozen=True)
class Study:
    """A finished run of the workflow: its folder, config file and snakemake's output."""

    folder: Path
    config: Path
    run: subprocess.CompletedProcess

    @property
    def results(self) -> Path:
        return self.folder / "results"


class StudyRun:
    """The whole workflow on a config in a folder of its own, run once: :meth:`start` starts it in
    the background (a test whose own work leaves a core idle, the SLURM run, starts it early),
    :meth:`result` waits for it (starting it first if need be) and returns the :class:`Study`."""

    def __init__(self, folder: Path, config: dict, logs: Path) -> None:
        self.folder = folder
        self.config = write_config(folder, config)
        self._logs = logs
        self._proc: subprocess.Popen | None = None
        self._study: Study | None = None

    def start(self, cores: int = 2) -> None:
        """Start the run (if not started yet) with ``cores`` cores. Only in a test marked ``slow``."""
        if self._proc is not None:
            return
        require_slow("starts Snakemake")
        cmd = snakemake_command(self.folder, self.config, "--cores", str(cores))
        self._logs.mkdir(parents=True, exist_ok=True)
        with (self._logs / "stdout").open("w") as out, (self._logs / "stderr").open("w") as err:
            self._proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)

    def result(self) -> Study:
        """The finished study; fails the test if the run failed."""
        if self._study is None:
            self.start()
            try:
                code = self._proc.wait(timeout=SNAKEMAKE_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
                raise
            run = subprocess.CompletedProcess(
                self._proc.args, code, (self._logs / "stdout").read_text(), (self._logs / "stderr").read_text()
            )
            assert code == 0, run.stderr[-3000:]
            self._study = Study(self.folder, self.config, run)
        return self._study

    def stop(self) -> None:
        """End a run still going (the session ends early); a finished one stays as it is."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


#: The seeds of the ``other_seeds_study`` fixture (``quick_study`` runs quick.yaml's seeds, 0 and 1).
OTHER_SEEDS = [2, 3]


def copy_study(folder: Path, to: Path) -> Path:
    """A copy of a finished study's folder (outputs, config, Snakemake's metadata; times kept), for
    a test that changes it: a shared study stays as it was made."""
    shutil.copytree(folder, to, symlinks=True)
    return to


# ---------------------------------------------------------------------------------------------
# the browser

#: Debian's Chromium (tests/install_system.sh installs it), or None.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

#: Flags for a sandboxed root run on a closed network (no background connections at start-up),
#: and a resolver that fails every host: a page that needed the network would show it.
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=10000",
)

#: Added before ``</body>``: once loaded, the page notes on ``<body>`` how many images it has, how
#: many decoded, and its height (read back with ``--dump-dom``; see :func:`page_facts`).
PROBE_SCRIPT = """
<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  document.body.setAttribute('data-images', String(imgs.length));
  document.body.setAttribute('data-decoded', String(imgs.filter(i => i.complete && i.naturalWidth > 0).length));
  document.body.setAttribute('data-height', String(document.body.scrollHeight));
});
</script>
"""


def browser_required() -> bool:
    return os.environ.get("INITLAB_REQUIRE_BROWSER", "") not in ("", "0", "false", "no")


def browse(chromium: str, workdir: Path, page: Path, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Open ``page`` in headless Chromium (a profile of its own in ``workdir``) with ``extra`` flags
    (``--dump-dom``, ``--screenshot=...``). Only in a test marked ``slow``."""
    require_slow("runs a browser")
    return subprocess.run(
        [chromium, *BROWSER_FLAGS, f"--user-data-dir={workdir / 'profile'}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def with_probe(page: Path, to: Path) -> Path:
    """A copy of ``page`` with :data:`PROBE_SCRIPT` added."""
    to.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE_SCRIPT + "</body>"), encoding="utf-8")
    return to


def page_facts(dom: str) -> dict[str, int]:
    """What :data:`PROBE_SCRIPT` noted in a dumped DOM: images, decoded, height."""
    return {key: int(re.search(rf'data-{key}="(\d+)"', dom)[1]) for key in ("images", "decoded", "height")}


# ---------------------------------------------------------------------------------------------
# the docs and lint tools (the `docs` and `lint` extras; cffconvert in a virtual environment of its own)

#: Where tests/run.sh installs cffconvert: it needs jsonschema < 4, the study pins jsonschema 4.
CFFCONVERT = REPO / ".tools/cffconvert/bin/cffconvert"


def tools_required() -> bool:
    return os.environ.get("INITLAB_REQUIRE_TOOLS", "") not in ("", "0", "false", "no")


def _missing_tool(what: str) -> None:
    import pytest

    if tools_required():
        pytest.fail(f"{what} is required (INITLAB_REQUIRE_TOOLS=1) but not installed", pytrace=False)
    pytest.skip(f"{what} not installed (tests/run.sh installs it)")


def python_tool(module: str) -> list[str]:
    """The command running ``module`` (mkdocs, ruff, snakefmt) with this Python; skips when it is not
    installed, or fails with INITLAB_REQUIRE_TOOLS=1 (as CI sets)."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        _missing_tool(module)
    return [sys.executable, "-m", module]


def cffconvert() -> str:
    """cffconvert's path: tests/run.sh's virtual environment, else one on PATH; skips (or fails) without."""
    found = str(CFFCONVERT) if CFFCONVERT.is_file() else shutil.which("cffconvert")
    if found is None:
        _missing_tool("cffconvert")
    return found
