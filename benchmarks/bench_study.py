"""The whole study, measured side by side in one run (issue: performance).

    python benchmarks/bench_study.py [--config config/config.yaml | --quick] [--cores 8]
                                     [--naive-sample 24] [--workdir DIR] [--cold-only]

Runs, in a fresh folder, with the repository's Snakefile:

1. cold run: ``snakemake --cores C`` from nothing; every compute job records its import and
   work seconds (results/timings.csv), so ``efficiency = work seconds / (wall x machine cores)``.
2. against what users would do instead: a fixed sample of the training grid's configurations
   run the naive way (``benchmarks/naive_run.py``: one process per configuration, the lesson's
   loop, torch's default threading, C at a time), extrapolated to the whole grid, against the
   span of the cold run's training jobs (first start to last finish, with the probe jobs
   sharing the cores: a conservative figure); the sample's numbers are checked against the
   study's training table.
3. no-op rerun (everything up to date), then adding one seed: the jobs a dry run plans (and
   how many are expected: one per probe activation and per training cell, plus aggregation and
   report) and the time to run them.
4. report time: aggregation + figures + HTML (``--forcerun aggregate aggregate_timings``).
5. scale: a dry run of the same study with 10x the seeds, its DAG cost per job; and the
   aggregation's peak memory on tables of that size (the cold run's per-job CSVs replicated
   under new seeds).

6. against the machine itself: the study's matrix-multiply FLOPs (training, probe and ablations,
   computed from the config: ``study_flops``) over what the cores could do in the cold run's wall
   time at the single-thread matmul peak measured in this run (``limit_fraction``), and the
   trainer's in-study GFLOP/s per depth and the probe's, as fractions of that peak.

``--cold-only`` stops after 1 and 6 (about a third of the time); its last line is
cold_s=<x> efficiency=<x> limit_fraction=<x> peak_fraction_depth<d>=<x> ... peak_fraction_probe=<x>

Last line: speedup_vs_naive=<x> efficiency=<x> noop_rerun_s=<x> add_seed_jobs=<n>
add_seed_expected_jobs=<n> add_seed_s=<x> report_s=<x> dag_ms_per_job=<x> limit_fraction=<x>
peak_fraction_depth<d>=<x> ... peak_fraction_probe=<x>
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import torch
import yaml
from bench_train import matmul_peak_gflops, training_flops

from initlab.engine.ablation_plan import variants
from initlab.engine.probe import BATCH_SIZE as PROBE_BATCH
from initlab.engine.probe import IN_FEATURES as PROBE_IN_FEATURES
from initlab.study import axes
from initlab.study.configlimits import train_split_size

REPO = Path(__file__).resolve().parents[1]


def snakemake(workdir: Path, config: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    """Run snakemake in ``workdir``; return (wall seconds, the finished process)."""
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        *args,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(config),
    ]
    start = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(args)} failed:\n{run.stderr[-3000:]}")
    return seconds, run


def planned_jobs(workdir: Path, config: Path) -> tuple[float, dict[str, int]]:
    seconds, run = snakemake(workdir, config, "--dry-run", "--cores", "1")
    counts = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", run.stdout, re.M) if m[1] != "total"}
    return seconds, counts


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def naive_sample(config: dict, n: int) -> tuple[list[list[str]], int]:
    """A fixed, evenly spread sample of the training grid's configurations, and the grid's size."""
    grid = [
        [str(seed), str(c.depth), str(c.width), c.activation, c.optimizer, str(c.lr), str(c.steps), init]
        for job in axes.jobs(config, "train")
        for c in [job.cell]
        for seed in job.seeds
        for init in job.inits
    ]
    step = max(1, len(grid) // n)
    return grid[::step][:n], len(grid)


def run_naive(sample: list[list[str]], parallel: int, env: dict[str, str] | None = None) -> tuple[float, list[str]]:
    def one(args: list[str]) -> str:
        cmd = [sys.executable, str(REPO / "benchmarks/naive_run.py"), *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout.strip()

    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        lines = list(pool.map(one, sample))
    return time.perf_counter() - start, lines


def naive_mismatches(lines: list[str], training: pd.DataFrame) -> list[list[str]]:
    """The naive runs (as their argument lists) whose numbers differ from the study's table
    (compared as the tables print them, 9 significant digits)."""
    table = training.set_index(["seed", "depth", "activation", "optimizer", "init"])
    differing = []
    for line in lines:
        fields = line.split(",")
        seed, depth, _width, act, opt, _lr, _steps, init = fields[:8]
        row = table.loc[(int(seed), int(depth), act, opt, init)]
        study = [format(float(row[c]), ".9g") for c in ("start_loss", "end_loss", "val_acc")]
        if study != fields[8:]:
            differing.append(fields[:8])
    return differing


def aggregation_peak_mb(workdir: Path, scale: int) -> float:
    """Peak RSS of aggregating the curves table (the largest) at ``scale`` x the seeds: the
    study's table split back into one file per training cell, replicated under new seeds."""
    curves = pd.read_csv(workdir / "results/tables/curves.csv")
    big = workdir / "scale"
    big.mkdir(exist_ok=True)
    inputs = []
    cells = ["activation", "optimizer", "depth"]
    for k in range(scale):
        for i, (_, part) in enumerate(curves.groupby(cells)):
            out = big / f"{k}_{i}.csv"
            part.assign(seed=part.seed + 1000 * k).to_csv(out, index=False)
            inputs.append(str(out))
    # A fresh parent whose only child is the aggregation: its children's peak RSS is that job's.
    measure = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    cmd = [sys.executable, "-m", "initlab", "aggregate", "--table", "curves", "--out", str(big / "curves.csv"), *inputs]
    out = subprocess.run([sys.executable, "-c", measure, *cmd], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1]) / 1024


def probe_network_flops(depth: int, width: int) -> float:
    """Matmul FLOPs of one probe network: a forward over the batch (2*B*in*out per layer) and a
    backward twice that (gradients of the weights and of the layer inputs)."""
    sizes = [PROBE_IN_FEATURES] + [width] * depth
    forward = sum(2 * PROBE_BATCH * i * o for i, o in zip(sizes, sizes[1:], strict=False))
    return 3 * forward


def study_flops(config: dict) -> dict[str, float]:
    """The study's matmul FLOPs by part, from the (validated) config: every probe network, every
    trained model (``bench_train.training_flops``) and every ablation variant. LSUV's few extra
    forward passes and the elementwise work are left out, so the fraction is a lower bound."""
    n_train = train_split_size(config)
    probe = sum(
        len(job.seeds) * len(job.inits) * sum(probe_network_flops(d, job.cell.width) for d in job.cell.depths)
        for job in axes.jobs(config, "probe")
    )
    training = sum(
        len(job.seeds) * len(job.inits) * training_flops(job.cell, n_train) for job in axes.jobs(config, "train")
    )
    ablation = sum(
        len(job.seeds) * len(variants(job.cell.spec.depth)) * training_flops(job.cell.spec, n_train)
        for job in axes.jobs(config, "ablation")
    )
    return {"training": training, "probe": probe, "ablation": ablation}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "config/config.yaml")
    parser.add_argument("--quick", action="store_true", help="use config/quick.yaml")
    parser.add_argument("--cores", type=int, default=8, help="snakemake --cores, and naive processes at a time")
    parser.add_argument("--naive-sample", type=int, default=24, help="naive configurations actually run")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the run here (default: a temp folder)")
    parser.add_argument(
        "--cold-only",
        action="store_true",
        help="stop after the cold run and the figures against the machine (limit_fraction)",
    )
    args = parser.parse_args()
    source = REPO / "config/quick.yaml" if args.quick else args.config
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="initlab-bench-"))
    shutil.rmtree(workdir / "results", ignore_errors=True)
    shutil.rmtree(workdir / ".snakemake", ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    machine_cores = os.cpu_count() or 1
    raw = yaml.safe_load(source.read_text())
    config_path = write_config(workdir / "config.yaml", raw)
    # the validated config, defaults filled in, is what the study ran
    _, _ = planned_jobs(workdir, config_path)
    print(f"workdir {workdir}; machine cores {machine_cores}; snakemake --cores {args.cores}")

    cold_s, _ = snakemake(workdir, config_path, "--cores", str(args.cores))
    config = yaml.safe_load((workdir / "results/config.json").read_text())
    timings = pd.read_csv(workdir / "results/timings.csv")
    work_s, import_s = timings.work_seconds.sum(), timings.import_seconds.sum()
    efficiency = work_s / (cold_s * machine_cores)
    print(
        f"cold run: {cold_s:.1f} s wall; {len(timings)} compute jobs: work {work_s:.1f} s, imports {import_s:.1f} s; "
        f"efficiency {efficiency:.2f}"
    )

    train = timings[timings.job.str.startswith("train/")].copy()
    torch.set_num_threads(1)  # the jobs' setting: the peak is a single-thread one
    peak = matmul_peak_gflops()
    # a job's timings row is labelled as the study's grid labels it (initlab.study.axes.Job.label)
    job_of = {job.label: job for job in axes.jobs(config, "train")}
    cells = [job_of[label] for label in train.job]
    train["depth"] = [job.cell.depth for job in cells]
    n_train = train_split_size(config)
    train["gflops"] = [
        training_flops(job.cell, n_train) * len(job.seeds) * len(job.inits) / w / 1e9
        for job, w in zip(cells, train.work_seconds, strict=True)
    ]
    deepest = train[train.depth == train.depth.max()]
    print(
        f"stacked training in the study: {deepest.gflops.mean():.1f} GFLOP/s at depth {deepest.depth.max()} "
        f"(work CPU seconds), {deepest.gflops.mean() / peak:.2f} of the single-thread matmul peak "
        f"{peak:.1f} GFLOP/s measured now; by depth: "
        + ", ".join(f"{d}: {g:.0f}" for d, g in train.groupby("depth").gflops.mean().items())
    )
    by_depth = train.groupby("depth").gflops.mean()
    probe_jobs = timings[timings.job.str.startswith("probe/")]
    flops = study_flops(config)
    probe_gflops = flops["probe"] / probe_jobs.work_seconds.sum() / 1e9
    limit_fraction = sum(flops.values()) / (cold_s * machine_cores * peak * 1e9)
    print(
        f"against the machine: {sum(flops.values()) / 1e12:.2f} TFLOP of matmul work (training "
        f"{flops['training'] / 1e12:.2f}, probe {flops['probe'] / 1e12:.2f}, "
        f"ablations {flops['ablation'] / 1e12:.2f}); "
        f"floor at the peak on {machine_cores} cores {sum(flops.values()) / (machine_cores * peak * 1e9):.0f} s; "
        f"cold run {cold_s:.0f} s: limit_fraction {limit_fraction:.2f}; probe {probe_gflops:.1f} GFLOP/s "
        f"({probe_gflops / peak:.2f} of peak)"
    )
    fractions = (
        f"limit_fraction={limit_fraction:.2f} "
        + " ".join(f"peak_fraction_depth{d}={g / peak:.2f}" for d, g in by_depth.items())
        + f" peak_fraction_probe={probe_gflops / peak:.2f}"
    )
    if args.cold_only:
        print(f"cold_s={cold_s:.1f} efficiency={efficiency:.2f} {fractions}")
        return
    train_span = train.finished_at.max() - train.started_at.min()
    sample, n_grid = naive_sample(config, args.naive_sample)
    naive_s, lines = run_naive(sample, args.cores)
    naive_total = naive_s * n_grid / len(sample)
    training = pd.read_csv(workdir / "results/tables/training.csv")
    differing = naive_mismatches(lines, training)
    # torch's default threading rounds some products differently (and Adam amplifies it); the
    # same runs pinned to one thread, as the study's jobs are, must agree to the bit.
    _, pinned = run_naive(differing, args.cores, env=dict(os.environ, OMP_NUM_THREADS="1"))
    still = naive_mismatches(pinned, training)
    speedup = naive_total / train_span
    print(
        f"naive: {len(sample)} of {n_grid} configurations in {naive_s:.1f} s ({args.cores} at a time) -> "
        f"{naive_total:.0f} s for the grid; initlab's training jobs: {train_span:.1f} s; speedup {speedup:.1f}x"
    )
    print(
        f"same numbers: {len(sample) - len(differing)} of {len(sample)} naive runs equal the study's table "
        f"to the printed digit with torch's default threads; of the {len(differing)} others, "
        f"{len(differing) - len(still)} equal it when pinned to one thread ({len(still)} still differ)"
    )

    noop_s, _ = snakemake(workdir, config_path, "--cores", str(args.cores))
    print(f"no-op rerun: {noop_s:.2f} s")

    more = dict(config, seeds=sorted(config["seeds"]) + [max(config["seeds"]) + 1])
    more_path = write_config(workdir / "config_more.yaml", more)
    _, jobs = planned_jobs(workdir, more_path)
    cells = sum(len(kind.cells(config)) for kind in axes.KINDS.values())
    n_ablations = len(axes.ablation_cells(config))
    # one job per cell (probe, training, ablation) holds the new seed; then aggregate (x3, +1 with
    # ablations), aggregate_timings, effective_config, manifest, figures, report, all (theory
    # depends on no seed)
    expected = cells + 3 + (1 if n_ablations else 0) + 1 + 1 + 1 + 1 + 1 + 1
    add_jobs = sum(jobs.values())
    add_s, _ = snakemake(workdir, more_path, "--cores", str(args.cores))
    print(
        f"add one seed: {add_jobs} jobs planned (expected {expected}: {jobs}); ran in {add_s:.1f} s "
        f"(bound: cold/seeds + report = see below)"
    )

    report_s, _ = snakemake(
        workdir, more_path, "--cores", str(args.cores), "--forcerun", "aggregate", "aggregate_timings"
    )
    bound = cold_s / len(config["seeds"]) + report_s
    print(
        f"report (aggregation + figures + HTML): {report_s:.1f} s; add-seed bound {bound:.1f} s "
        f"({'met' if add_s <= bound else 'missed'})"
    )

    scaled = dict(config, seeds=list(range(10 * len(config["seeds"]))))
    scaled_dir = workdir / "scaled"
    scaled_dir.mkdir(exist_ok=True)
    dag_s, scaled_jobs = planned_jobs(scaled_dir, write_config(scaled_dir / "config.yaml", scaled))
    n_jobs = sum(scaled_jobs.values())
    dag_ms = 1e3 * dag_s / n_jobs
    peak_mb = aggregation_peak_mb(workdir, 10)
    print(
        f"10x seeds: dry run {dag_s:.2f} s for {n_jobs} jobs = {dag_ms:.1f} ms/job (process start included); "
        f"aggregating the 10x curves table peaks at {peak_mb:.0f} MB RSS"
    )

    print(
        f"speedup_vs_naive={speedup:.1f} efficiency={efficiency:.2f} noop_rerun_s={noop_s:.2f} "
        f"add_seed_jobs={add_jobs} add_seed_expected_jobs={expected} add_seed_s={add_s:.1f} "
        f"report_s={report_s:.1f} dag_ms_per_job={dag_ms:.1f} {fractions}"
    )


if __name__ == "__main__":
    main()
