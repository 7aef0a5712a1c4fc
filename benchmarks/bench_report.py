"""Figures + report at 10 and 100 seeds: wall time and peak memory (the report at scale).

    python benchmarks/bench_report.py [--tables results/tables] [--config results/config.json]
                                      [--copies 10] [--workdir DIR] [--figure-threads 2]

Takes a finished study's tables (by default the default study's, ``results/tables``) and
grows them to ``copies`` times the seeds by offsetting the seeds of each copy (copy k's seed
s becomes s + k * (max seed + 1)): the same numbers under new seeds, so every table, figure
and answer scales as a real study with that many seeds would. Then runs ``initlab figures``
and ``initlab report`` as separate processes on the original and on the grown tables and
reads each process's wall time and peak resident memory (``ru_maxrss`` of that child and its
figure workers, from ``os.wait4``). Figures are drawn ``--figure-threads`` at a time, as the
workflow's figures rule does (two).

Last line: figures_s_10=<x> report_s_10=<x> cpu_s_10=<x> peak_mb_10=<x> figures_cpu_s_10=<x>
report_cpu_s_10=<x> figures_s_100=<x> ... (100 stands for ``copies`` x the original seed count.) On a
loaded machine compare the CPU seconds of each step: the wall times swing with the load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
#: Tables holding one row per seed, grown by seed offsets.
SEEDED_TABLES = ("signal_probe", "training", "curves", "ablation")
#: Tables without seeds, copied when the study made them (the theory's predictions).
UNSEEDED_TABLES = ("lab_reproduction", "timings", "theory", "theory_start")
#: Goals for figures + report at 100 seeds.
GOAL_SECONDS = 20.0
GOAL_MB = 1024.0


def grow_tables(source: Path, out: Path, copies: int) -> int:
    """Write ``copies`` seed-offset copies of each seeded table of ``source`` into ``out``; return the seed count.

    Copies are stacked in seed order, so the tables stay sorted by their key columns.
    """
    out.mkdir(parents=True, exist_ok=True)
    n_seeds = 0
    for name in SEEDED_TABLES:
        if not (source / f"{name}.csv").exists():  # an optional table the study did not make
            continue
        table = pd.read_csv(source / f"{name}.csv", dtype=str, keep_default_na=False)
        seeds = table["seed"].astype(int)
        offset = int(seeds.max()) + 1
        grown = pd.concat([table.assign(seed=(seeds + k * offset).astype(str)) for k in range(copies)])
        grown.to_csv(out / f"{name}.csv", index=False)
        n_seeds = max(n_seeds, copies * seeds.nunique())
    for name in UNSEEDED_TABLES:
        if (source / f"{name}.csv").exists():
            shutil.copy(source / f"{name}.csv", out / f"{name}.csv")
    return n_seeds


def timed(cmd: list[str]) -> tuple[float, float, float]:
    """Run ``cmd``; return (wall seconds, CPU seconds, peak resident MB of that process). Fails loudly on error.

    CPU seconds are reported too because wall time on a shared machine swings with the load.
    """
    start = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stdout, stderr = process.stdout.read(), process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{stdout.decode()}{stderr.decode()[-3000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # Linux reports kB


def measure(tables: Path, config: Path, out: Path, figure_threads: int) -> dict[str, float]:
    """``initlab figures`` then ``initlab report`` on ``tables``, each timed in its own process."""
    initlab = [sys.executable, "-m", "initlab"]
    fig_s, fig_cpu, fig_mb = timed(
        [*initlab, "figures", "--threads", str(figure_threads), "--tables", str(tables), "--out", str(out / "figures")]
    )
    rep_s, rep_cpu, rep_mb = timed(
        [
            *initlab,
            "report",
            "--tables",
            str(tables),
            "--figures",
            str(out / "figures"),
            "--config",
            str(config),
            "--out",
            str(out / "report.html"),
        ]
    )
    return {
        "figures_s": fig_s,
        "report_s": rep_s,
        "cpu_s": fig_cpu + rep_cpu,
        "peak_mb": max(fig_mb, rep_mb),
        "html_mb": (out / "report.html").stat().st_size / 1e6,
        "figures_cpu_s": fig_cpu,
        "report_cpu_s": rep_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=Path, default=REPO / "results/tables")
    parser.add_argument("--config", type=Path, default=None, help="default: config.json next to the tables' folder")
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument(
        "--figure-threads",
        type=int,
        default=2,
        help="figures drawn at a time (the figures rule's threads; 1 gives the serial CPU time)",
    )
    parser.add_argument("--workdir", type=Path, default=None, help="keep the grown tables and reports here")
    args = parser.parse_args()
    config = args.config or args.tables.parent / "config.json"
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_report_"))
    grown = workdir / "grown/tables"
    n_big = grow_tables(args.tables, grown, args.copies)
    n_small = pd.read_csv(args.tables / "training.csv", usecols=["seed"])["seed"].nunique()
    results = {}
    for label, tables in ((n_small, args.tables), (n_big, grown)):
        results[label] = measure(tables, config, workdir / f"seeds_{label}", args.figure_threads)
        r = results[label]
        print(
            f"{label} seeds: figures {r['figures_s']:.1f} s, report {r['report_s']:.1f} s, "
            f"figures + report {r['figures_s'] + r['report_s']:.1f} s (goal <= {GOAL_SECONDS:.0f} s at 100; "
            f"{r['cpu_s']:.1f} CPU s: figures {r['figures_cpu_s']:.1f}, report {r['report_cpu_s']:.1f}), "
            f"peak {r['peak_mb']:.0f} MB (goal <= {GOAL_MB:.0f}), report.html {r['html_mb']:.1f} MB",
            flush=True,
        )
    print(f"reports in {workdir}")
    print(
        " ".join(
            f"{key}_{label}={value:.1f}" for label, r in results.items() for key, value in r.items() if key != "html_mb"
        )
    )


if __name__ == "__main__":
    main()
