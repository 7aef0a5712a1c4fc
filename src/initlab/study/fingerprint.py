"""Fingerprints: what each workflow step's output depends on, as one short hash per step.

A step (a rule of the workflow) depends on the library modules its command runs, the files they
read (the lesson's printed tables under ``engine/lesson/``), the versions of the packages those
modules import (torch, numpy, scikit-learn, pandas, ...), the Python version, and for the report
its templates. The workflow gives each rule its fingerprint as a ``params`` entry, so Snakemake's
params trigger reruns exactly the jobs whose code changed, and everything after them;
``initlab verify`` recomputes the tables' fingerprints from the code installed now.

The modules of a step are found, not listed: from the step's entry modules (:data:`STEPS`), every
``import`` of ``initlab`` code anywhere in a module (at the top or inside a function: the command
line imports lazily) is followed, and every other top-level import names a package whose version
counts. ``initlab/cli.py`` itself is hashed but not followed: it imports every step's code lazily.
A README, the tests or the benchmarks are in no step, so changing them reruns nothing.

The code hashed is the code the ``initlab`` command imports: the package this module was imported
from (a checkout for an editable install, ``site-packages`` otherwise), not whatever checkout the
workflow runs in. Pure Python: no torch, no pandas, so the workflow's DAG build stays fast.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import initlab
from initlab.study.tables import TABLES, Table

#: The ``initlab`` package the command line imports (its folder).
PACKAGE_DIR = Path(initlab.__file__).resolve().parent
#: The report's template folder's name, and the file that marks it.
TEMPLATES_DIRNAME = "report_templates"
TEMPLATE_NAME = "report.html.j2"
#: Hex digits kept of a SHA-256: two different codes never collide in practice, and a person can
#: compare two fingerprints by eye.
FINGERPRINT_HEX = 16
#: Files of the package a step never reads for a number.
IGNORED_SUFFIXES = (".pyc", ".pyo")
#: Import names whose distribution has another name (for its version).
DISTRIBUTIONS = {"sklearn": "scikit-learn", "yaml": "pyyaml", "PIL": "pillow"}


@dataclass(frozen=True)
class Step:
    """A workflow step: the library modules its command runs first, and whether it renders templates."""

    modules: tuple[str, ...]
    templates: bool = False


#: What a compute job (``initlab job``) runs besides its kind's engine module (``initlab.cli.cmd_job``).
_JOB = (
    "initlab.study.axes",
    "initlab.study.tables",
    "initlab.study.completeness",
    "initlab.study.expected",
    "initlab.engine.inits",
    "initlab.engine.data",
    "initlab.engine.allocator",
)
#: What every timed compute command runs (``initlab.cli._timed``): thread settings, the timings writer.
_TIMED = ("initlab.engine.allocator", "initlab.study.tables")

#: Rule name -> the modules its ``initlab`` sub-command imports (see ``initlab.cli``). Rules that run
#: no library code (``effective_config``) have none: their params already hold all they depend on.
STEPS: dict[str, Step] = {
    "dataset": Step(("initlab.engine.data",)),
    "lab_replay": Step(("initlab.engine.lesson", *_TIMED)),
    "probe": Step(("initlab.engine.probe", *_JOB)),
    "train": Step(("initlab.engine.train", *_JOB)),
    "ablation": Step(("initlab.engine.ablation", *_JOB)),
    "model_dataset": Step(("initlab.engine.datasets",)),
    "model": Step(("initlab.engine.modeltrain", *_JOB)),
    "theory": Step(("initlab.study.theory", "initlab.engine.inits", *_TIMED)),
    "theory_start": Step(("initlab.study.theory", "initlab.engine.data", "initlab.engine.inits", *_TIMED)),
    "aggregate": Step(("initlab.study.aggregate",)),
    "aggregate_timings": Step(("initlab.study.aggregate",)),
    "manifest": Step(("initlab.study.manifest",)),
    "figures": Step(("initlab.report.render",)),
    "report": Step(("initlab.report.render",), templates=True),
}
#: Hashed into every step but not followed (it imports every step's modules lazily).
COMMAND_LINE = "cli.py"
#: Files hashed but whose imports are not followed: the command line, and the package's
#: ``__init__`` whose one lazy import serves ``initlab.inspect`` for users, never a workflow step.
NOT_FOLLOWED = frozenset({COMMAND_LINE, "__init__.py"})


def template_candidates(cwd: Path | None = None) -> list[Path]:
    """Where the report looks for its templates, in order: ``report_templates/`` in the working
    directory or a parent (the workflow runs in the checkout), then next to the package's source
    tree (an editable install run elsewhere). ``initlab.report.render`` takes the first that holds
    the report's template; the report's fingerprint hashes that same folder."""
    cwd = (cwd or Path.cwd()).resolve()
    return [p / TEMPLATES_DIRNAME for p in (cwd, *cwd.parents)] + [PACKAGE_DIR.parents[1] / TEMPLATES_DIRNAME]


def templates_dir(cwd: Path | None = None) -> Path | None:
    """The folder the report will render from (:func:`template_candidates`), or None if none has it."""
    return next((c for c in template_candidates(cwd) if (c / TEMPLATE_NAME).is_file()), None)


def table_rules(t: Table) -> list[str]:
    """The rules whose code a table's numbers come from: its jobs and their aggregation, or its one rule."""
    return [t.kind, "aggregate"] if t.kind else [t.rule]


# ---------------------------------------------------------------------------------------------
# finding a step's files


def _module_file(package_dir: Path, module: str) -> Path | None:
    """The file of ``initlab.a.b`` under ``package_dir`` (``a/b.py`` or ``a/b/__init__.py``), or None."""
    parts = module.split(".")[1:]
    base = package_dir.joinpath(*parts) if parts else package_dir
    for candidate in (base.with_suffix(".py") if parts else None, base / "__init__.py"):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


#: An ``import a.b`` or ``from a.b import c, d`` statement (parenthesised lists across lines too). A
#: regular expression, not ``ast``: ten times faster, and an ``import`` line quoted in a docstring
#: can only add a module, never lose one.
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]+)|import[ \t]+([^\n#;]+))", re.MULTILINE
)


@functools.cache
def _imports(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ``initlab`` modules (candidates) and the other top-level packages ``path`` imports anywhere."""
    own: list[str] = []
    other: set[str] = set()
    for source, listed, plain in _IMPORT.findall(path.read_text(encoding="utf-8")):
        if source:
            if source.startswith("."):
                continue  # the package uses absolute imports only
            names = [source] + [
                f"{source}.{n.split()[0]}" for n in listed.strip("()").replace("\\", " ").split(",") if n.strip()
            ]
        else:
            names = [n.split()[0] for n in plain.split(",") if n.strip()]
        for name in names:
            if name.split(".")[0] == "initlab":
                own.append(name)
            else:
                other.add(name.split(".")[0])
    return tuple(own), tuple(sorted(other))


def _data_files(folder: Path) -> list[Path]:
    """Files beside a package's modules that are neither Python nor a package: data it reads."""
    found = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix not in (".py", *IGNORED_SUFFIXES):
            found.append(path)
        elif path.is_dir() and path.name != "__pycache__" and not (path / "__init__.py").is_file():
            found += [p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix not in IGNORED_SUFFIXES]
    return found


def step_files(step: Step, package_dir: Path = PACKAGE_DIR) -> tuple[list[Path], list[str]]:
    """The package files a step runs or reads, and the third-party packages they import (sorted)."""
    seen: set[Path] = set()
    visited: set[str] = set()
    packages: set[str] = set()
    todo = list(step.modules)
    while todo:
        module = todo.pop()
        parts = module.split(".")
        # importing initlab.a.b runs initlab/__init__.py and initlab/a/__init__.py first
        for depth in range(1, len(parts) + 1):
            name = ".".join(parts[:depth])
            if name in visited:
                continue
            visited.add(name)
            path = _module_file(package_dir, name)
            if path is None or path in seen:
                continue
            seen.add(path)
            if path.relative_to(package_dir).as_posix() in NOT_FOLLOWED:
                continue
            own, other = _imports(path)
            todo += own
            packages.update(other)
    folders = {p.parent for p in seen}
    files = sorted(seen | {d for f in folders for d in _data_files(f)} | {package_dir / COMMAND_LINE})
    return files, sorted(p for p in packages if p not in sys.stdlib_module_names and p != "__future__")


# ---------------------------------------------------------------------------------------------
# hashing


@functools.cache
def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:FINGERPRINT_HEX]


@functools.cache
def package_version(name: str) -> str:
    """The installed version of an import name's distribution ('not installed' when absent)."""
    try:
        return importlib.metadata.version(DISTRIBUTIONS.get(name, name))
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def python_version() -> str:
    """Python's major.minor: a patch release changes no number; a minor one may (float formatting, hashing)."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


@dataclass(frozen=True)
class Fingerprint:
    """One step's fingerprint and what went into it (files relative to the package, hashes; versions)."""

    value: str
    files: dict[str, str]
    packages: dict[str, str]

    def as_dict(self) -> dict[str, object]:
        return {"fingerprint": self.value, "files": self.files, "packages": self.packages}


def _digest(parts: Mapping[str, str]) -> str:
    text = "\n".join(f"{key}\t{value}" for key, value in sorted(parts.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_HEX]


def step_fingerprint(step: Step, package_dir: Path = PACKAGE_DIR, templates_dir: Path | None = None) -> Fingerprint:
    """The fingerprint of ``step`` for the package in ``package_dir`` (and the report's ``templates_dir``)."""
    paths, imported = step_files(step, package_dir)
    files = {p.relative_to(package_dir).as_posix(): file_hash(p) for p in paths}
    if step.templates:
        if templates_dir is None or not templates_dir.is_dir():
            raise ValueError(f"the report's templates folder {templates_dir} does not exist")
        files |= {
            f"templates/{p.relative_to(templates_dir).as_posix()}": file_hash(p)
            for p in sorted(templates_dir.rglob("*"))
            if p.is_file()
        }
    packages = {DISTRIBUTIONS.get(n, n): package_version(n) for n in imported} | {"python": python_version()}
    parts = {f"file {name}": value for name, value in files.items()} | {f"package {k}": v for k, v in packages.items()}
    return Fingerprint(_digest(parts), files, packages)


def fingerprints(
    rules: Iterable[str] = tuple(STEPS), package_dir: Path = PACKAGE_DIR, templates_dir: Path | None = None
) -> dict[str, Fingerprint]:
    """Each of ``rules``' fingerprint (computed once per call: the workflow calls this once)."""
    return {rule: step_fingerprint(STEPS[rule], package_dir, templates_dir) for rule in rules}


def table_fingerprint(t: Table, prints: Mapping[str, Fingerprint | str]) -> str:
    """A table's fingerprint: those of the rules its numbers come from (:func:`table_rules`), combined."""
    values = {rule: p if isinstance(p, str) else p.value for rule, p in prints.items()}
    return _digest({rule: values[rule] for rule in table_rules(t)})


def table_fingerprints(tables: Iterable[Table], prints: Mapping[str, Fingerprint | str]) -> dict[str, str]:
    return {t.name: table_fingerprint(t, prints) for t in tables}


#: The rules that make tables (every table's :func:`table_rules`), in :data:`STEPS` order.
TABLE_RULES = tuple(r for r in STEPS if any(r in table_rules(t) for t in TABLES))
