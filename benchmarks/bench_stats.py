"""Calibration of the seed statistics on real tables: false alarms and coverage, old methods and new.

Usage::

    python benchmarks/bench_stats.py RESULTS [RESULTS2] [--splits 12] [--draws 8] [--min-seeds 20]

RESULTS is a ``results/`` folder or a folder of tables; two of them (the same
configuration, different seeds) are merged cell by cell. Every cell of
:data:`initlab.report.compare.seedstats.METRICS` with at least ``--min-seeds``
seeds and some spread is used:

- **tests of a difference** (false alarm at the 5 % level): each cell's seeds are
  split at random into two halves, so A and B differ only by chance; a test that
  rejects, or an interval that excludes 0, is a false alarm. Unpaired: the halves
  as two sets of seeds (old: BCa bootstrap CI of the difference; new: permutation
  test). Paired: the halves paired seed by seed at random (old: BCa CI of the mean
  per-seed difference; new: sign-flip permutation test). The new intervals invert
  their test, so their coverage of the true difference (0) is 1 − false alarm.
- **many cells at once**: each split index is one simulated study pair; counted are
  the cells with p ≤ 0.05, those called different after Benjamini–Hochberg, and how
  many study pairs call any cell different (at most 5 % when nothing differs).
- **P(A beats B)** on the randomly paired halves (true value ½): old "0.6 or more
  read as a preference", new: the sign test, and its interval's coverage of ½.
- **interval of the mean** (coverage): ``--draws`` samples of n seeds drawn with
  replacement from the cell's seeds, whose mean is then the true mean, for n from 5
  to 100; t, bootstrap-t and BCa (old).

Prints one table; nothing is written. Deterministic for given inputs and options.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from initlab.report import stats
from initlab.report.compare.seedstats import METRICS

ALPHA = 1 - stats.CONFIDENCE
SAMPLE_SIZES = (5, 10, 20, 50, 100)
#: Rows per vectorised resampling call: bounds memory at 100 seeds × 2000 resamples.
CHUNK = 40


def tables_dir(folder: Path) -> Path:
    return folder / "tables" if (folder / "tables").is_dir() else folder


def pools(folders: list[Path], min_seeds: int) -> tuple[list[np.ndarray], dict[str, int]]:
    """Finite values of every metric's cell with >= min_seeds seeds and some spread, merged over folders."""
    out, counts = [], {"cells": 0, "too few seeds": 0, "no spread": 0}
    frames: dict[str, pd.DataFrame] = {}
    for metric in METRICS.values():
        if metric.table not in frames:
            parts = []
            for folder in folders:
                path = tables_dir(folder) / f"{metric.table}.csv"
                if not path.is_file():
                    sys.exit(f"bench_stats: {folder}: missing table {metric.table}.csv")
                parts.append(pd.read_csv(path))
            frames[metric.table] = pd.concat(parts, ignore_index=True)
        df = metric.select(frames[metric.table])
        duplicated = df.duplicated([*metric.cell, "seed"])
        if duplicated.any():
            sys.exit(
                f"bench_stats: {metric.table}: a seed appears twice in one cell "
                f"(the folders must have different seeds), e.g. {df[duplicated].iloc[0][list(metric.cell)].to_dict()}"
            )
        for _, group in df.groupby(list(metric.cell), sort=True):
            counts["cells"] += 1
            values = group.sort_values("seed")[metric.column].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            if len(finite) < min_seeds:
                counts["too few seeds"] += 1
            elif np.all(finite == finite[0]):
                counts["no spread"] += 1
            else:
                out.append(finite)
    return out, counts


def half_splits(cells: list[np.ndarray], splits: int, rng: np.random.Generator):
    """(split index, A half, B half) for every cell and split; halves of equal size (one left out if odd)."""
    for values in cells:
        half = len(values) // 2
        for s in range(splits):
            order = rng.permutation(len(values))
            yield s, values[order[:half]], values[order[half : 2 * half]]


def old_difference_excludes_0(a_rows: np.ndarray, b_rows: np.ndarray, paired: bool) -> np.ndarray:
    """The interval compare used before: BCa bootstrap (2000 resamples) of the (paired) difference of means."""
    out = []
    for start in range(0, len(a_rows), CHUNK):
        a, b = a_rows[start : start + CHUNK], b_rows[start : start + CHUNK]
        if paired:
            low, high = stats.bca_interval(b - a)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = scipy_stats.bootstrap(
                    (a, b),
                    lambda x, y, axis: np.mean(y, axis=axis) - np.mean(x, axis=axis),
                    axis=-1,
                    n_resamples=stats.BOOTSTRAP_RESAMPLES,
                    confidence_level=stats.CONFIDENCE,
                    method="BCa",
                    rng=np.random.default_rng(stats.BOOTSTRAP_SEED),
                )
            low, high = result.confidence_interval
        out.append((np.asarray(low) > 0) | (np.asarray(high) < 0))
    return np.concatenate(out)


def mean_coverage(cells: list[np.ndarray], draws: int, rng: np.random.Generator) -> dict[str, dict[int, float]]:
    """Coverage of each candidate interval of the mean at each sample size (truth: the cell's mean)."""
    coverage: dict[str, dict[int, float]] = {name: {} for name in stats.MEAN_INTERVALS}
    for n in SAMPLE_SIZES:
        samples, truths = [], []
        for values in cells:
            drawn = values[rng.integers(0, len(values), size=(draws, n))]
            keep = drawn.std(axis=1) > 0  # a draw of one repeated value has no interval
            samples.append(drawn[keep])
            truths.append(np.full(int(keep.sum()), values.mean()))
        rows, truth = np.vstack(samples), np.concatenate(truths)
        for name, interval in stats.MEAN_INTERVALS.items():
            hits = []
            for start in range(0, len(rows), CHUNK):
                low, high = interval(rows[start : start + CHUNK], stats.CONFIDENCE, stats.BOOTSTRAP_SEED)
                t = truth[start : start + CHUNK]
                hits.append((np.asarray(low) <= t) & (t <= np.asarray(high)))
            coverage[name][n] = float(np.concatenate(hits).mean())
    return coverage


def beats(a_rows: np.ndarray, b_rows: np.ndarray) -> dict[str, float]:
    wins, losses = (a_rows < b_rows).sum(axis=1), (a_rows > b_rows).sum(axis=1)
    n = a_rows.shape[1]
    share = (wins + 0.5 * (n - wins - losses)) / n
    tests = [stats.sign_test(int(w), int(lo), int(n - w - lo)) for w, lo in zip(wins, losses, strict=True)]
    p = np.array([t[0] for t in tests])
    covered = np.array([t[1] <= 0.5 <= t[2] for t in tests])
    return {
        "old": float((np.abs(share - 0.5) >= 0.1).mean()),
        "new": float((p <= ALPHA).mean()),
        "coverage": float(covered.mean()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="+", type=Path, help="one or two results/ folders (or folders of tables)")
    parser.add_argument("--splits", type=int, default=12, help="random half splits per cell (default 12)")
    parser.add_argument("--draws", type=int, default=8, help="samples per cell and seed count for the mean (8)")
    parser.add_argument("--min-seeds", type=int, default=20, help="seeds a cell needs (default 20)")
    args = parser.parse_args(argv)
    if len(args.results) > 2:
        parser.error("give one or two results folders")
    started = time.perf_counter()
    cells, counts = pools(args.results, args.min_seeds)
    if not cells:
        sys.exit(
            f"bench_stats: no cell has {args.min_seeds} seeds with some spread "
            f"({counts['cells']} cells; {counts['too few seeds']} with fewer seeds)"
        )
    rng = np.random.default_rng(stats.BOOTSTRAP_SEED)
    split_index, a_rows, b_rows = zip(*half_splits(cells, args.splits, rng), strict=True)
    split_index = np.array(split_index)
    by_size: dict[int, list[int]] = {}
    for i, a in enumerate(a_rows):
        by_size.setdefault(len(a), []).append(i)
    results: dict[str, np.ndarray] = {k: np.zeros(len(a_rows), dtype=bool) for k in ("old", "old paired", "welch")}
    p_unpaired, p_paired = np.zeros(len(a_rows)), np.zeros(len(a_rows))
    beat_figures = []
    for members in by_size.values():
        a, b = np.stack([a_rows[i] for i in members]), np.stack([b_rows[i] for i in members])
        results["old"][members] = old_difference_excludes_0(a, b, paired=False)
        results["old paired"][members] = old_difference_excludes_0(a, b, paired=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # near-constant cells warn of precision loss; their p is still read
            results["welch"][members] = scipy_stats.ttest_ind(a, b, axis=1, equal_var=False).pvalue <= ALPHA
        p_unpaired[members] = [t.p for t in stats.shift_tests(list(zip(a, b, strict=True)), paired=False)]
        p_paired[members] = [t.p for t in stats.shift_tests(list(zip(a, b, strict=True)), paired=True)]
        beat_figures.append((len(members), beats(a, b)))
    n_splits = len(a_rows)

    def rate(flags: np.ndarray) -> str:
        return f"{flags.mean():6.1%}"

    print(f"bench_stats: {', '.join(map(str, args.results))}")
    print(
        f"  {len(cells)} cells with >= {args.min_seeds} seeds and some spread (of {counts['cells']}; "
        f"{counts['too few seeds']} with fewer seeds, {counts['no spread']} without spread); "
        f"{args.splits} random half splits each = {n_splits} splits of {sorted(by_size)} vs the same"
    )
    print()
    print("  Difference of means, nothing differs (nominal: false alarm 5.0%, coverage 95.0%)")
    print("  method                                           false alarm  coverage of 0")
    rows = [
        ("old: unpaired BCa bootstrap CI excludes 0", results["old"]),
        ("new: permutation test p <= 0.05 (interval inverts it)", p_unpaired <= ALPHA),
        ("reference: Welch t-test p <= 0.05", results["welch"]),
        ("old: paired BCa bootstrap CI excludes 0", results["old paired"]),
        ("new: paired sign-flip permutation p <= 0.05", p_paired <= ALPHA),
    ]
    for name, flags in rows:
        print(f"  {name:<52} {rate(flags)}      {1 - flags.mean():6.1%}")
    print()
    print("  Many cells at once: per simulated study pair (one split of every cell)")
    studies = []
    for s in range(args.splits):
        mine = split_index == s
        studies.append(
            (
                int((p_unpaired[mine] <= ALPHA).sum()),
                int(stats.called_different(p_unpaired[mine]).sum()),
                int(results["old"][mine].sum()),
                int(mine.sum()),
            )
        )
    raw, bh, old, n_cells = (np.array(column) for column in zip(*studies, strict=True))
    print(f"  cells per study {n_cells[0]}; expected by chance at 5%: {0.05 * n_cells[0]:.1f}")
    print(f"  old: BCa CI excludes 0 in {old.mean():.1f} cells per study (range {old.min()}–{old.max()})")
    print(f"  new: permutation p <= 0.05 in {raw.mean():.1f} cells per study (range {raw.min()}–{raw.max()})")
    print(
        f"  new: called different after Benjamini–Hochberg (FDR 5%): {bh.mean():.2f} cells per study; "
        f"{(bh > 0).mean():.0%} of {args.splits} studies call any cell"
    )
    print()
    total = sum(n for n, _ in beat_figures)
    beat = {k: sum(n * f[k] for n, f in beat_figures) / total for k in ("old", "new", "coverage")}
    print("  P(A beats B), halves paired at random (true value 1/2)")
    print(f"  old: |P - 1/2| >= 0.1 read as a preference       {beat['old']:6.1%}")
    print(
        f"  new: sign test p <= 0.05                         {beat['new']:6.1%}      "
        f"interval covers 1/2: {beat['coverage']:.1%}"
    )
    print()
    coverage = mean_coverage(cells, args.draws, rng)
    print(
        f"  Interval of the mean: coverage of the cell's mean ({args.draws} draws of n seeds per cell, "
        "with replacement; nominal 95.0%)"
    )
    print("  method        " + "".join(f"n={n:<7}" for n in SAMPLE_SIZES))
    for name, by_n in coverage.items():
        label = name + (" (old)" if name == "BCa" else " (new)" if name == stats.MEAN_INTERVAL else "")
        print(f"  {label:<14}" + "".join(f"{by_n[n]:<9.1%}" for n in SAMPLE_SIZES))
    print(f"\n  {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
