"""The cold ``config/digits.yaml`` study: wall and CPU seconds, and where the CPU goes.

    python benchmarks/bench_digits.py [--config config/digits.yaml] [--cores 2] [--workdir DIR]

Runs ``snakemake --cores C --configfile CONFIG`` with the repository's Snakefile in an empty
folder and measures its wall time and the CPU seconds of snakemake and every job it ran
(``RUSAGE_CHILDREN``: each job is waited for, so its CPU reaches this process). The study's
``results/timings.csv`` splits each compute job's CPU into start-up (``import torch`` and the
rest of the job's imports) and work; summed per job kind (probe, train, model, ...) it shows
where the CPU goes, and the model jobs' work over ``models.csv``'s rows is the work CPU per
trained model. What remains (snakemake itself, the data set, aggregation, figures and report
jobs) is printed as one line.

On a shared machine the wall time is the neighbours' as much as the study's; CPU seconds are
the study's. ``idle_estimate_s`` is what the run would take on C idle cores: the CPU spread
over the cores, plus the stretches where one job alone can run (snakemake's start, the chain
of aggregation, figures and report at the end) counted once more as they cannot be shared.
Snakemake's start is measured as a dry run of the finished study, the chain's CPU as a
``--forcerun`` of those rules (both after the cold run).

The validation accuracy of each init (mean over seeds, per optimizer) follows: what the
config's comment says about its comparison.

Last line: wall_s=<x> cpu_s=<x> idle_estimate_s=<x> model_jobs=<n> model_cpu_per_model_s=<x>
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
#: The rules that run one after another at the end of a study, each waiting for the one before.
TAIL_RULES = ("aggregate", "aggregate_timings", "manifest", "figures", "report")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def snakemake(folder: Path, config: Path, cores: int, *args: str) -> tuple[float, float]:
    """Run snakemake in ``folder``; its (wall, CPU) seconds. Exits with its log on failure."""
    env = dict(os.environ, PYTHONPATH=f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), "--snakefile", str(REPO / "Snakefile")]
    cmd += ["--directory", str(folder), "--configfile", str(config), *args]
    cpu0, wall0 = children_cpu(), time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall, cpu = time.perf_counter() - wall0, children_cpu() - cpu0
    if run.returncode != 0:
        sys.exit(f"snakemake failed ({run.returncode}):\n{run.stderr[-3000:]}")
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "config/digits.yaml")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None, help="kept afterwards (default: a temporary folder)")
    args = parser.parse_args()
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="bench_digits_"))
    if folder.exists() and any(folder.iterdir()):
        sys.exit(f"--workdir {folder} is not empty; the run must be cold")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        wall, cpu = snakemake(folder, args.config.resolve(), args.cores)
        timings = pd.read_csv(folder / "results/timings.csv")
        models = pd.read_csv(folder / "results/tables/models.csv")
        _, start_cpu = snakemake(folder, args.config.resolve(), 1, "--dry-run")
        _, tail_cpu = snakemake(folder, args.config.resolve(), 1, "--forcerun", *TAIL_RULES)
    finally:
        if args.workdir is None:
            shutil.rmtree(folder, ignore_errors=True)
    timings["kind"] = timings["job"].str.split("/").str[0]
    kinds = timings.groupby("kind").agg(
        jobs=("job", "size"), import_s=("import_seconds", "sum"), work_s=("work_seconds", "sum")
    )
    print(f"cold {args.config.name}, --cores {args.cores}: wall {wall:.1f} s, CPU {cpu:.1f} s")
    print(kinds.round(1).to_string())
    compute = kinds["import_s"].sum() + kinds["work_s"].sum()
    print(f"everything else (snakemake, data sets, aggregation, figures, report): {cpu - compute:.1f} s CPU")
    model = kinds.loc["model"] if "model" in kinds.index else None
    per_model = model["work_s"] / len(models) if model is not None and len(models) else float("nan")
    print(f"{len(models)} trained models: {per_model:.3f} s work CPU a model (inspect, probe, training, evaluation)")
    idle = (cpu - tail_cpu - start_cpu) / args.cores + tail_cpu + start_cpu
    print(
        f"tail (aggregation, figures, report) rerun: {tail_cpu:.1f} s CPU; "
        f"snakemake's start (a dry run): {start_cpu:.1f} s"
    )
    acc = models.groupby(["init", "optimizer"])["val_acc"].mean().unstack("optimizer").round(3)
    print("mean validation accuracy over seeds:")
    print(acc.sort_values(acc.columns[0], ascending=False).to_string())
    print(
        f"wall_s={wall:.1f} cpu_s={cpu:.1f} idle_estimate_s={idle:.0f} "
        f"model_jobs={int(model['jobs']) if model is not None else 0} "
        f"model_cpu_per_model_s={per_model:.3f}"
    )


if __name__ == "__main__":
    main()
