"""Seed statistics: how much a result moves when only the random seed changes.

Every number in the report is an observation over seeds, so before a sentence
says "A beats B" we need to know (1) the spread per cell, (2) a confidence
interval for the mean that does not assume normality (10 seeds of a skewed
loss are not normal), (3) how often A beats B *in the same seed* (pairing
removes the shared luck of a data/weight draw), and (4) which conclusions hold
in every seed and which flip.

All functions are pure functions of tidy DataFrames and deterministic: the
bootstrap uses a freshly seeded generator per call, so the same table always
gives the same interval regardless of call order.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

#: Confidence level of every interval in the report (the conventional 95 %).
CONFIDENCE = 0.95
#: Bootstrap resamples: 2000 puts the Monte-Carlo error of a 95 % BCa bound
#: well below the seed-to-seed spread while costing ~1 ms per cell.
BOOTSTRAP_RESAMPLES = 2000
#: Seed of the bootstrap generator, fixed so that the report is reproducible.
BOOTSTRAP_SEED = 20240607


def as_worst_if_nonfinite(values: pd.Series, lower_is_better: bool = True) -> pd.Series:
    """Map NaN/inf to the worst possible score.

    A diverged run has a NaN/inf loss; for *ranking* it must lose to every run
    that finished, rather than be dropped (dropping would flatter the init that
    diverges).
    """
    worst = np.inf if lower_is_better else -np.inf
    numeric = pd.to_numeric(values, errors="coerce").astype(float)
    return numeric.where(np.isfinite(numeric), worst)


def majority(outcomes: Sequence[object] | pd.Series) -> tuple[object, int, int]:
    """Most common outcome, how many observations agree with it, and the total.

    Ties between outcomes are broken by sorted string order so the answer is
    deterministic rather than dependent on row order.
    """
    series = pd.Series(list(outcomes), dtype=object)
    if series.empty:
        raise ValueError("majority() of no outcomes")
    counts = series.value_counts()
    best = counts.max()
    winner = sorted((value for value, n in counts.items() if n == best), key=str)[0]
    return winner, int(best), int(series.size)


def spread_by_cell(
    df: pd.DataFrame, cell_cols: Sequence[str], value_col: str, seed_col: str = "seed"
) -> pd.DataFrame:
    """Per cell: number of seeds, how many finished (finite), mean/sd/min/median/max.

    Summary statistics use finite values only; ``n_nonfinite`` keeps the
    excluded runs visible instead of silently averaging over survivors.
    """
    rows = []
    for key, group in df.groupby(list(cell_cols), sort=True, dropna=False):
        values = pd.to_numeric(group[value_col], errors="coerce").astype(float)
        finite = values[np.isfinite(values)]
        rows.append(
            {
                **dict(zip(cell_cols, _as_tuple(key), strict=True)),
                "n_seeds": int(group[seed_col].nunique()),
                "n_nonfinite": int((~np.isfinite(values)).sum()),
                "mean": finite.mean() if len(finite) else np.nan,
                "sd": finite.std(ddof=1) if len(finite) > 1 else np.nan,
                "min": finite.min() if len(finite) else np.nan,
                "median": finite.median() if len(finite) else np.nan,
                "max": finite.max() if len(finite) else np.nan,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class BootstrapCI:
    """Mean of the finite observations with its bootstrap interval.

    ``note`` is empty for a regular interval and otherwise says why the
    interval is degenerate (one seed, identical seeds), so the report can say
    so instead of printing a misleading zero-width interval.
    """

    mean: float
    low: float
    high: float
    n: int
    note: str


def bootstrap_mean_ci(
    values: Sequence[float] | pd.Series,
    confidence: float = CONFIDENCE,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> BootstrapCI:
    """95 % BCa bootstrap interval of the mean over seeds (non-finite values excluded).

    BCa corrects for the skew of loss distributions. One seed has no spread to
    resample and identical seeds give a zero-variance jackknife, so both return
    an explicit note instead of calling scipy (which would warn and give NaN).
    """
    array = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    finite = array[np.isfinite(array)]
    n = int(finite.size)
    if n == 0:
        return BootstrapCI(np.nan, np.nan, np.nan, 0, "no finite value")
    mean = float(finite.mean())
    if n == 1:
        return BootstrapCI(mean, np.nan, np.nan, 1, "1 seed: no interval")
    if np.all(finite == finite[0]):
        return BootstrapCI(mean, mean, mean, n, "all seeds identical")
    with warnings.catch_warnings():
        # Tiny samples (2-3 seeds) make BCa warn about instability; the
        # interval is still returned and the n next to it tells the story.
        warnings.simplefilter("ignore")
        result = scipy_stats.bootstrap(
            (finite,),
            np.mean,
            n_resamples=n_resamples,
            confidence_level=confidence,
            method="BCa",
            rng=np.random.default_rng(seed),
        )
    low, high = result.confidence_interval
    note = "" if n >= 5 else f"only {n} seeds: interval is rough"
    return BootstrapCI(mean, float(low), float(high), n, note)


def bootstrap_by_cell(df: pd.DataFrame, cell_cols: Sequence[str], value_col: str) -> pd.DataFrame:
    """:func:`bootstrap_mean_ci` for every cell, as a table."""
    rows = []
    for key, group in df.groupby(list(cell_cols), sort=True, dropna=False):
        ci = bootstrap_mean_ci(group[value_col])
        rows.append(
            {
                **dict(zip(cell_cols, _as_tuple(key), strict=True)),
                "n": ci.n,
                "mean": ci.mean,
                "ci_low": ci.low,
                "ci_high": ci.high,
                "ci_note": ci.note,
            }
        )
    return pd.DataFrame(rows)


def beat_probability(
    df: pd.DataFrame,
    cell_cols: Sequence[str],
    value_col: str,
    contender_col: str = "init",
    seed_col: str = "seed",
    lower_is_better: bool = True,
) -> pd.DataFrame:
    """Paired probability that contender A beats contender B within each cell.

    Pairs are formed by seed (same data and weight draw), only seeds present
    for both contenders count, a tie counts one half, and a non-finite value
    loses to any finite one. ``holds_every_seed`` is True when A strictly beats
    B in every paired seed or B strictly beats A in every paired seed: that
    ordering is a conclusion no seed contradicts.
    """
    rows = []
    for key, group in df.groupby(list(cell_cols), sort=True, dropna=False):
        scores = group.assign(_score=as_worst_if_nonfinite(group[value_col], lower_is_better))
        wide = scores.pivot_table(index=seed_col, columns=contender_col, values="_score", aggfunc="first")
        if not lower_is_better:
            wide = -wide
        for a, b in itertools.permutations(wide.columns, 2):
            paired = wide[[a, b]].dropna()
            wins = int((paired[a] < paired[b]).sum())
            losses = int((paired[a] > paired[b]).sum())
            n_pairs = int(len(paired))
            ties = n_pairs - wins - losses
            rows.append(
                {
                    **dict(zip(cell_cols, _as_tuple(key), strict=True)),
                    "a": a,
                    "b": b,
                    "n_pairs": n_pairs,
                    "wins": wins,
                    "ties": ties,
                    "losses": losses,
                    "p_a_beats_b": (wins + 0.5 * ties) / n_pairs if n_pairs else np.nan,
                    "holds_every_seed": n_pairs > 0 and (wins == n_pairs or losses == n_pairs),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[*cell_cols, "a", "b", "n_pairs", "wins", "ties", "losses", "p_a_beats_b", "holds_every_seed"],
    )


def per_seed_winners(
    df: pd.DataFrame,
    cell_cols: Sequence[str],
    value_col: str,
    contender_col: str = "init",
    seed_col: str = "seed",
    lower_is_better: bool = True,
) -> pd.DataFrame:
    """The best contender of every (cell, seed); exact ties are joined with '+'."""
    scored = df.assign(_score=as_worst_if_nonfinite(df[value_col], lower_is_better))
    if not lower_is_better:
        scored["_score"] = -scored["_score"]
    rows = []
    for key, group in scored.groupby([*cell_cols, seed_col], sort=True, dropna=False):
        best = group["_score"].min()
        winners = sorted(group.loc[group["_score"] == best, contender_col].astype(str))
        rows.append({**dict(zip([*cell_cols, seed_col], _as_tuple(key), strict=True)), "winner": "+".join(winners)})
    return pd.DataFrame(rows, columns=[*cell_cols, seed_col, "winner"])


def winner_stability(
    df: pd.DataFrame,
    cell_cols: Sequence[str],
    value_col: str,
    contender_col: str = "init",
    seed_col: str = "seed",
    lower_is_better: bool = True,
) -> pd.DataFrame:
    """Per cell: the most frequent per-seed winner, how many seeds agree, and whether it is stable.

    "Stable" means every seed names the same winner: the best-init conclusion
    does not depend on the seed. Otherwise the per-seed winners are listed so
    the reader sees what it flips between.
    """
    winners = per_seed_winners(df, cell_cols, value_col, contender_col, seed_col, lower_is_better)
    rows = []
    for key, group in winners.groupby(list(cell_cols), sort=True, dropna=False):
        winner, agreeing, total = majority(group["winner"])
        counts = group["winner"].value_counts()
        rows.append(
            {
                **dict(zip(cell_cols, _as_tuple(key), strict=True)),
                "modal_winner": winner,
                "seeds_agreeing": agreeing,
                "seeds_total": total,
                "stable": agreeing == total,
                "winners": ", ".join(
                    f"{name} ×{n}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                ),
            }
        )
    return pd.DataFrame(
        rows, columns=[*cell_cols, "modal_winner", "seeds_agreeing", "seeds_total", "stable", "winners"]
    )


def _as_tuple(key: object) -> tuple:
    """groupby keys are scalars for one column and tuples for several."""
    return key if isinstance(key, tuple) else (key,)
