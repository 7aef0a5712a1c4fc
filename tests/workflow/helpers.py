"""Run the real workflow (snakemake's command line) on a config, in a folder of the test's own."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]

SECTION_IDS = [
    "lesson-claims", "lesson-reproduced", "exercise-1", "exercise-2", "exercise-3", "next-probe",
    "signal-through-depth", "theory", "training", "comparing-seeds", "evidence-to-keep", "provenance",
]


def write_config(folder: Path, config: dict) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def quick_config() -> dict:
    return yaml.safe_load((REPO / "config/quick.yaml").read_text())


def snakemake_command(folder: Path, config: Path, *args: str) -> list[str]:
    """The command line of ``snakemake ARGS --configfile CONFIG`` in ``folder`` with the repository's Snakefile."""
    return [
        sys.executable, "-m", "snakemake", *args,
        "--snakefile", str(REPO / "Snakefile"), "--directory", str(folder), "--configfile", str(config),
    ]


def snakemake(folder: Path, config: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """``snakemake ARGS --configfile CONFIG`` run in ``folder`` with the repository's Snakefile."""
    return subprocess.run(snakemake_command(folder, config, *args), capture_output=True, text=True, timeout=timeout)


def planned_jobs(folder: Path, config: Path, *targets: str) -> dict[str, int]:
    """Jobs per rule that a dry run plans (Snakemake's 'Job stats' table)."""
    run = snakemake(folder, config, *targets, "--dry-run", "--cores", "2")
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
