"""Seed statistics: how much a result moves when only the random seed changes.

Every number in the report is an observation over seeds, so before a sentence
says "A beats B" we need to know (1) the spread per cell, (2) an interval for
the mean whose coverage holds at the seed counts people use (5 to 100), (3) how
often A beats B *in the same seed* and whether that is more than a coin flip,
(4) whether two sets of seeds differ, by a test whose false-alarm rate is the
one it states, and (5) which of many cells differ, with the false discovery
rate controlled across them.

Each method was chosen by its measured coverage, not by its name:
``benchmarks/bench_stats.py`` splits the seeds of real studies and counts how
often each candidate covers or raises a false alarm; :data:`METHODS` holds the
winners with those figures, the one place the report and ``initlab compare``
describe them from.

All functions are pure functions of tidy DataFrames and deterministic: every
resampling uses a freshly seeded generator per call, so the same table always
gives the same interval regardless of call order.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betaincinv, stdtrit

# scipy.stats.binom.cdf's own kernel: the public bdtr differs from it in the last bits, and the
# report needs nothing else from scipy.stats, whose import costs about a second of the report's
# start-up (the functions that do need it import it when called).
from scipy.special._ufuncs import _binom_cdf

#: Confidence level of every interval in the report (the conventional 95 %), and so
#: the level (1 - CONFIDENCE) of every test.
CONFIDENCE = 0.95
#: Resamples of the bootstrap candidates (BCa, bootstrap-t) that bench_stats.py
#: measures against the chosen interval: 2000 puts the Monte-Carlo error of a 95 %
#: bound well below the seed-to-seed spread.
BOOTSTRAP_RESAMPLES = 2000
#: Seed of every resampling generator (bootstrap, permutations), fixed so that the
#: report is reproducible.
BOOTSTRAP_SEED = 20240607
#: Random relabellings of a permutation test when there are more arrangements than
#: this (below it every arrangement is enumerated, and the test is exact): 9999 puts
#: the Monte-Carlo error of a p-value near 0.05 at about 0.002.
PERMUTATIONS = 9999


@dataclass(frozen=True)
class Method:
    """A statistical method the report and ``initlab compare`` use, with its measured calibration.

    ``measured`` is what ``benchmarks/bench_stats.py`` printed on the two default
    studies (seeds 0-9 and 10-19 merged, 20 seeds per cell) and what the synthetic
    check in the test suite asserts; it is quoted, not recomputed, so the report
    stays a function of its own tables.
    """

    name: str
    description: str
    measured: str


#: Every method behind an interval, a p-value or a "differs", keyed by what it answers.
#: The report's criteria and the compare page render their descriptions from here.
METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "mean over seeds",
            "95 % t-interval of the mean over seeds (finite values): mean ± t(0.975, n−1)·sd/√n.",
            (
                "covers the mean in 90.4 % of cells at 5 seeds, 90.9 % at 10, 92.7 % at 20, 95.0 % at 50 and at 100 "
                "(the BCa bootstrap used before: 79.8 %, 87.2 %, 91.4 %, 94.4 %, 95.4 %; bootstrap-t: 89.0 %, 91.7 %, "
                "93.9 %, 95.6 %, 95.7 %); 95 % on normal samples at 5 to 30 seeds. Skewed losses make every interval "
                "undercover below 20 seeds; t the least at 5."
            ),
        ),
        Method(
            "difference, different seeds",
            "mean(B) − mean(A) tested by a permutation test (scipy.stats.permutation_test, seeds relabelled "
            "between A and B); its 95 % interval is every shift the same test does not reject.",
            (
                "false alarm 4.4 % at the 5 % level on 6456 random 10/10 splits of 538 real cells (the BCa bootstrap "
                "interval used before: 9.8 %; Welch's t-test 3.8 %); within 3-7 % and its interval's coverage within "
                "93-97 % on normal, lognormal and heavy-tailed samples at 5, 10 and 30 seeds."
            ),
        ),
        Method(
            "difference, same seeds",
            "mean of the per-seed differences B − A tested by the paired sign-flip permutation test; its "
            "95 % interval is every shift the same test does not reject.",
            (
                "false alarm 4.1 % on the same splits paired at random (the paired BCa interval used before: 11.4 %); "
                "within 3-7 % and 93-97 % on synthetic samples at 10 and 30 seeds. At 5 seeds no sign pattern reaches "
                "p 0.05, so it never rejects and its interval is infinite."
            ),
        ),
        Method(
            "A beats B",
            "P(A beats B) is the share of seeds in which A has the lower value (ties count ½), tested against "
            "a coin flip by the exact sign test (ties dropped), with its 95 % Clopper–Pearson interval.",
            (
                "false alarm 2.0 % on real seeds paired at random, where P is ½ (exact, so conservative at 10 seeds), "
                "interval covering ½ in 98.0 %; reading P ≥ 0.6 or ≤ 0.4 as a preference was wrong in 33.7 %."
            ),
        ),
        Method(
            "many cells",
            "where many cells are tested at once, a cell is called different when its Benjamini–Hochberg "
            "adjusted p-value (scipy.stats.false_discovery_control) is below 0.05: at most 5 % of the cells "
            "called different are expected to be false alarms.",
            (
                "over the 538 real cells split at random (nothing differs), 23.8 cells per study pair have p ≤ 0.05 "
                "(26.9 expected by chance) and none of 12 study pairs calls any cell different (the old rule, a BCa "
                "interval excluding 0: 52.8 cells per study)."
            ),
        ),
    )
}


def methods_text() -> str:
    """Every method in one paragraph, for a criteria definition or a page's method note."""
    return " ".join(
        f"{m.name[0].upper()}{m.name[1:]}: {m.description} Measured: {m.measured}" for m in METHODS.values()
    )


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


def spread_by_cell(df: pd.DataFrame, cell_cols: Sequence[str], value_col: str, seed_col: str = "seed") -> pd.DataFrame:
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
    """Mean of the finite observations with its 95 % interval (:data:`MEAN_INTERVAL`).

    ``note`` is empty for a regular interval and otherwise says why the
    interval is degenerate (one seed, identical seeds), so the report can say
    so instead of printing a misleading zero-width interval.
    """

    mean: float
    low: float
    high: float
    n: int
    note: str


#: The interval's record under the name it has now (the report calls it by the old one).
MeanCI = BootstrapCI

#: A vectorised interval of the mean: rows of finite samples -> (low, high) per row.
IntervalFn = Callable[[np.ndarray, float, int], tuple[np.ndarray, np.ndarray]]


def t_interval(rows: np.ndarray, confidence: float = CONFIDENCE, seed: int = BOOTSTRAP_SEED):
    """Student's t-interval per row: mean ± t(1 − α/2, n − 1)·sd/√n (``seed`` unused: no resampling)."""
    n = rows.shape[-1]
    mean, se = rows.mean(axis=-1), rows.std(axis=-1, ddof=1) / math.sqrt(n)
    q = stdtrit(n - 1, 0.5 + confidence / 2)  # scipy.stats.t.ppf's kernel
    return mean - q * se, mean + q * se


def bootstrap_t_interval(rows: np.ndarray, confidence: float = CONFIDENCE, seed: int = BOOTSTRAP_SEED):
    """Studentized bootstrap per row: the t statistic's own resampled quantiles replace Student's.

    scipy's ``bootstrap`` has no studentized method, so the resamples are drawn here, one
    index set for every row (the seed fixes it).
    """
    n = rows.shape[-1]
    mean, sd = rows.mean(axis=-1), rows.std(axis=-1, ddof=1)
    index = np.random.default_rng(seed).integers(0, n, size=(BOOTSTRAP_RESAMPLES, n))
    resampled = rows[..., index]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (resampled.mean(axis=-1) - mean[..., None]) / (resampled.std(axis=-1, ddof=1) / math.sqrt(n))
    t = np.where(np.isfinite(t), t, np.nan)  # a resample of one repeated value has no spread
    alpha = 1 - confidence
    upper_q, lower_q = np.nanquantile(t, 1 - alpha / 2, axis=-1), np.nanquantile(t, alpha / 2, axis=-1)
    return mean - upper_q * sd / math.sqrt(n), mean - lower_q * sd / math.sqrt(n)


def bca_interval(rows: np.ndarray, confidence: float = CONFIDENCE, seed: int = BOOTSTRAP_SEED):
    """scipy's BCa bootstrap per row (the interval the report used before it was measured)."""
    from scipy import stats as scipy_stats  # imported when needed: see the module's imports

    with warnings.catch_warnings():
        # Tiny samples make BCa warn about instability; the interval is still returned.
        warnings.simplefilter("ignore")
        result = scipy_stats.bootstrap(
            (rows,),
            np.mean,
            n_resamples=BOOTSTRAP_RESAMPLES,
            axis=-1,
            confidence_level=confidence,
            method="BCa",
            rng=np.random.default_rng(seed),
        )
    return result.confidence_interval.low, result.confidence_interval.high


#: The candidate intervals of a mean over seeds that bench_stats.py measures.
MEAN_INTERVALS: dict[str, IntervalFn] = {"t": t_interval, "bootstrap-t": bootstrap_t_interval, "BCa": bca_interval}
#: The one the report uses: the best measured coverage from 5 to 100 seeds (see METHODS).
MEAN_INTERVAL = "t"


def finite_values(values: Sequence[float] | pd.Series | np.ndarray) -> np.ndarray:
    """The finite floats of ``values`` (a diverged run's NaN/inf is counted elsewhere, not averaged)."""
    array = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    return array[np.isfinite(array)]


def mean_ci(
    values: Sequence[float] | pd.Series, confidence: float = CONFIDENCE, method: str = MEAN_INTERVAL
) -> BootstrapCI:
    """95 % interval of the mean over seeds (non-finite values excluded), by :data:`MEAN_INTERVAL`.

    One seed has no spread and identical seeds a zero one, so both return an
    explicit note instead of a NaN or zero-width interval.
    """
    finite = finite_values(values)
    n = int(finite.size)
    if n == 0:
        return BootstrapCI(np.nan, np.nan, np.nan, 0, "no finite value")
    mean = float(finite.mean())
    if n == 1:
        return BootstrapCI(mean, np.nan, np.nan, 1, "1 seed: no interval")
    if np.all(finite == finite[0]):
        return BootstrapCI(mean, mean, mean, n, "all seeds identical")
    low, high = MEAN_INTERVALS[method](finite[None, :], confidence, BOOTSTRAP_SEED)
    note = "" if n >= 5 else f"only {n} seeds: interval is rough"
    return BootstrapCI(mean, float(low[0]), float(high[0]), n, note)


def bootstrap_mean_ci(
    values: Sequence[float] | pd.Series,
    confidence: float = CONFIDENCE,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> BootstrapCI:
    """:func:`mean_ci` under the name the report calls (``n_resamples`` and ``seed`` are kept for callers)."""
    return mean_ci(values, confidence)


def bootstrap_by_cell(df: pd.DataFrame, cell_cols: Sequence[str], value_col: str) -> pd.DataFrame:
    """:func:`mean_ci` for every cell, as a table."""
    rows = []
    for key, group in df.groupby(list(cell_cols), sort=True, dropna=False):
        ci = mean_ci(group[value_col])
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


#: :func:`bootstrap_by_cell` under the name of what it computes.
mean_ci_by_cell = bootstrap_by_cell


@dataclass(frozen=True)
class ShiftTest:
    """mean(B) − mean(A) (or the mean per-seed difference), its permutation p-value and 95 % interval.

    The interval is the set of shifts δ that the same permutation test does not reject
    when δ is subtracted from B, so it excludes 0 exactly when ``p`` ≤ 1 − confidence
    (up to scipy's tolerance for tied statistics). With too few seeds for the test ever
    to reach that level it is infinite, which the note says.
    """

    diff: float
    low: float
    high: float
    p: float
    n_a: int
    n_b: int
    note: str


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    return np.mean(y, axis=axis) - np.mean(x, axis=axis)


def _mean(x: np.ndarray, axis: int) -> np.ndarray:
    return np.mean(x, axis=axis)


def _inverted(t: np.ndarray, u: np.ndarray, w: np.ndarray, exact: bool, confidence: float):
    """The shifts not rejected, from one permutation run: observed ``t``, null ``u``, label weights ``w``.

    Subtracting δ from B moves a relabelling's statistic from u to u − δ·w and the observed
    one from t to t − δ, so each relabelling counts as "as large" for δ ≥ (t − u)/(1 − w) and
    "as small" for δ ≤ that root; relabellings with w = 1 (the identity) count on both sides
    for every δ. scipy's two-sided p is twice the smaller one-sided share, so the 95 % set is
    between two order statistics of the roots.
    """
    always = np.isclose(w, 1.0)
    roots = np.sort((t[None, :] - u[~always]) / (1.0 - w[~always])[:, None], axis=0)
    n_roots = roots.shape[0]
    counted = int(always.sum()) + (0 if exact else 1)
    total = u.shape[0] + (0 if exact else 1)
    needed = math.floor((1 - confidence) * total / 2 - counted) + 1
    if needed <= 0:
        inf = np.full(t.shape, np.inf)
        return -inf, inf
    if needed > n_roots:
        nan = np.full(t.shape, np.nan)
        return nan, nan
    return roots[needed - 1], roots[n_roots - needed]


def shift_tests(
    pairs: Sequence[tuple[Sequence[float], Sequence[float]]],
    paired: bool,
    confidence: float = CONFIDENCE,
    n_resamples: int = PERMUTATIONS,
    seed: int = BOOTSTRAP_SEED,
) -> list[ShiftTest]:
    """:class:`ShiftTest` of B against A for every (a, b) pair, one scipy call per sample size.

    Unpaired (different seeds): ``scipy.stats.permutation_test`` of mean(B) − mean(A),
    relabelling seeds between A and B, on the finite values. Paired (the same seeds,
    aligned): the sign-flip permutation test of the per-seed differences B − A, on seeds
    finite on both sides. Cells of one size share one call and so one set of
    relabellings, which a row of label indicators rides along with to give each
    relabelling's weight for the interval (:func:`_inverted`).
    """
    from scipy import stats as scipy_stats  # imported when needed: see the module's imports

    results: list[ShiftTest | None] = [None] * len(pairs)
    groups: dict[tuple[int, int], list[tuple[int, np.ndarray, np.ndarray]]] = {}
    for i, (a, b) in enumerate(pairs):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if paired:
            keep = np.isfinite(a) & np.isfinite(b)
            a, b = a[keep], b[keep]
        else:
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if len(a) == 0 or len(b) == 0:
            results[i] = ShiftTest(
                math.nan, math.nan, math.nan, math.nan, len(a), len(b), "no finite value on one side"
            )
        elif len(a) < 2 or len(b) < 2:
            diff = float(np.mean(b - a) if paired else b.mean() - a.mean())
            results[i] = ShiftTest(diff, math.nan, math.nan, math.nan, len(a), len(b), "one seed on a side: no test")
        else:
            groups.setdefault((len(a), len(b)), []).append((i, a, b))
    for (n_a, n_b), members in groups.items():
        a_rows = np.stack([m[1] for m in members])
        b_rows = np.stack([m[2] for m in members])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constant rows make scipy's tie tolerance warn
            if paired:
                data = (np.vstack([b_rows - a_rows, np.ones(n_a)]),)
                result = scipy_stats.permutation_test(
                    data,
                    _mean,
                    permutation_type="samples",
                    vectorized=True,
                    n_resamples=n_resamples,
                    batch=max(1, 2_000_000 // (data[0].size)),
                    axis=-1,
                    rng=np.random.default_rng(seed),
                )
                arrangements = 2**n_a
            else:
                data = (np.vstack([a_rows, np.zeros(n_a)]), np.vstack([b_rows, np.ones(n_b)]))
                result = scipy_stats.permutation_test(
                    data,
                    _mean_difference,
                    permutation_type="independent",
                    vectorized=True,
                    n_resamples=n_resamples,
                    batch=max(1, 2_000_000 // (data[0].size + data[1].size)),
                    axis=-1,
                    rng=np.random.default_rng(seed),
                )
                arrangements = math.comb(n_a + n_b, n_a)
        observed = np.asarray(result.statistic)[:-1]
        null = np.asarray(result.null_distribution)
        low, high = _inverted(observed, null[:, :-1], null[:, -1], arrangements <= n_resamples, confidence)
        pvalues = np.asarray(result.pvalue)[:-1]
        for k, (i, _, _) in enumerate(members):
            note = "too few seeds for a 95 % interval" if np.isinf(low[k]) else ""
            results[i] = ShiftTest(float(observed[k]), float(low[k]), float(high[k]), float(pvalues[k]), n_a, n_b, note)
    return results  # type: ignore[return-value]


def shift_test(a: Sequence[float], b: Sequence[float], paired: bool, confidence: float = CONFIDENCE) -> ShiftTest:
    """:func:`shift_tests` of one pair."""
    return shift_tests([(a, b)], paired, confidence)[0]


def fdr_adjusted(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (scipy.stats.false_discovery_control); NaN stays NaN."""
    from scipy import stats as scipy_stats  # imported when needed: see the module's imports

    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = scipy_stats.false_discovery_control(np.clip(p[ok], 0.0, 1.0), method="bh")
    return out


def called_different(pvalues: Sequence[float] | np.ndarray, alpha: float = 1 - CONFIDENCE) -> np.ndarray:
    """Which of many tests are called different with the false discovery rate held at ``alpha``."""
    with np.errstate(invalid="ignore"):
        return fdr_adjusted(pvalues) < alpha


def sign_tests(wins: np.ndarray, losses: np.ndarray, ties: np.ndarray, confidence: float = CONFIDENCE):
    """Exact sign test of P(A beats B) = ½ (ties dropped) and the 95 % interval of P (ties counting ½).

    Returns arrays (p-value, low, high). The p-value is ``scipy.stats.binomtest``'s two-sided
    one (at ½ the binomial is symmetric: twice the smaller tail); the interval is
    Clopper–Pearson for the share of untied seeds A wins (its beta quantiles, as
    ``proportion_ci(method="exact")``), with the ties added back at one half each, so it
    brackets the ``p_a_beats_b`` the report prints. Written on arrays because the report
    tests every pair of inits in many cells.
    """
    wins, losses, ties = (np.asarray(x, dtype=float) for x in (wins, losses, ties))
    decided, n = wins + losses, wins + losses + ties
    alpha = 1 - confidence
    with np.errstate(invalid="ignore", divide="ignore"):
        # scipy.stats' binom.cdf and beta.ppf, by the kernels they call (bit for bit); the cases
        # their argument checks would answer (no win, no loss, no untied seed) are set apart
        p = np.minimum(1.0, 2 * _binom_cdf(np.floor(np.minimum(wins, losses)), decided, 0.5))
        low = np.where(wins > 0, betaincinv(wins, losses + 1, alpha / 2), 0.0)
        high = np.where(losses > 0, betaincinv(wins + 1, losses, 1 - alpha / 2), 1.0)
        low, high = (low * decided + ties / 2) / n, (high * decided + ties / 2) / n
    untied_none = decided == 0
    p = np.where(untied_none, np.where(n > 0, 1.0, np.nan), p)
    low = np.where(untied_none, np.where(n > 0, 0.5, np.nan), low)
    high = np.where(untied_none, np.where(n > 0, 0.5, np.nan), high)
    return p, low, high


def sign_test(wins: int, losses: int, ties: int = 0, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """:func:`sign_tests` of one pair: (p-value, low, high)."""
    p, low, high = sign_tests(np.array([wins]), np.array([losses]), np.array([ties]), confidence)
    return float(p[0]), float(low[0]), float(high[0])


def beat_probability(
    df: pd.DataFrame,
    cell_cols: Sequence[str],
    value_col: str,
    contender_col: str = "init",
    seed_col: str = "seed",
    lower_is_better: bool = True,
) -> pd.DataFrame:
    """Paired probability that contender A beats contender B within each cell, with a sign test.

    Pairs are formed by seed (same data and weight draw), only seeds present
    for both contenders count, a tie counts one half, and a non-finite value
    loses to any finite one. ``holds_every_seed`` is True when A strictly beats
    B in every paired seed or B strictly beats A in every paired seed: that
    ordering is a conclusion no seed contradicts.

    ``sign_p``, ``p_low`` and ``p_high`` are :func:`sign_test`'s p-value and interval
    (0.6 from 10 seeds is a coin flip: its interval spans ½). ``prefers`` is True where
    the sign test calls a preference with the false discovery rate held at 5 % over
    the cell's pairs (:func:`called_different`; each unordered pair counted once).
    """
    columns = [
        *cell_cols,
        "a",
        "b",
        "n_pairs",
        "wins",
        "ties",
        "losses",
        "p_a_beats_b",
        "p_low",
        "p_high",
        "sign_p",
        "prefers",
        "holds_every_seed",
    ]
    rows = []
    for key, group in df.groupby(list(cell_cols), sort=True, dropna=False):
        scores = group.assign(_score=as_worst_if_nonfinite(group[value_col], lower_is_better))
        wide = scores.pivot_table(index=seed_col, columns=contender_col, values="_score", aggfunc="first")
        if not lower_is_better:
            wide = -wide
        cell_rows = []
        # numpy per pair, not pandas: a cell of 11 inits has 110 ordered pairs, at 100 seeds the
        # pandas version took seconds of the report
        values = wide.to_numpy(dtype=float)
        present = ~np.isnan(values)
        index = {name: i for i, name in enumerate(wide.columns)}
        for a, b in itertools.permutations(wide.columns, 2):
            both = present[:, index[a]] & present[:, index[b]]
            x, y = values[both, index[a]], values[both, index[b]]
            wins = int((x < y).sum())
            losses = int((x > y).sum())
            n_pairs = int(both.sum())
            ties = n_pairs - wins - losses
            cell_rows.append(
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
        if cell_rows:
            tested = sign_tests(*(np.array([r[k] for r in cell_rows]) for k in ("wins", "losses", "ties")))
            for r, sign_p, low, high in zip(cell_rows, *tested, strict=True):
                r.update(sign_p=float(sign_p), p_low=float(low), p_high=float(high))
        order = {name: i for i, name in enumerate(wide.columns)}
        once = [i for i, r in enumerate(cell_rows) if order[r["a"]] < order[r["b"]]]
        called = dict(
            zip(
                ((cell_rows[i]["a"], cell_rows[i]["b"]) for i in once),
                called_different([cell_rows[i]["sign_p"] for i in once]),
                strict=True,
            )
        )
        for r in cell_rows:
            r["prefers"] = bool(called.get((r["a"], r["b"]), called.get((r["b"], r["a"]), False)))
        rows += cell_rows
    return pd.DataFrame(rows, columns=columns)


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
    keys = [*cell_cols, seed_col]
    if scored.empty:
        return pd.DataFrame(columns=[*keys, "winner"])
    # one pass over all (cell, seed) groups, not a loop over them (seconds of the report at 100 seeds)
    best = scored.groupby(keys, sort=False, dropna=False)["_score"].transform("min")
    is_best = (scored["_score"] == best).to_numpy()  # positional: a concatenated frame repeats index labels
    winners = scored.loc[is_best, keys].assign(winner=scored.loc[is_best, contender_col].astype(str).to_numpy())
    joined = (
        winners.sort_values("winner", kind="stable")
        .groupby(keys, sort=True, dropna=False)["winner"]
        .agg("+".join)
        .reset_index()
    )
    return joined[[*keys, "winner"]]


def winner_stability(
    df: pd.DataFrame,
    cell_cols: Sequence[str],
    value_col: str,
    contender_col: str = "init",
    seed_col: str = "seed",
    lower_is_better: bool = True,
    label: Callable[[str], str] = str,
) -> pd.DataFrame:
    """Per cell: the most frequent per-seed winner, how many seeds agree, and whether it is stable.

    "Stable" means every seed names the same winner: the best-init conclusion
    does not depend on the seed. Otherwise the per-seed winners are listed so
    the reader sees what it flips between. ``label`` names a contender for the reader (the report
    passes its display names, 'he' -> 'He'); the order is still by count, then by key.
    """

    def shown(winner: str) -> str:
        return "+".join(label(name) for name in winner.split("+"))

    winners = per_seed_winners(df, cell_cols, value_col, contender_col, seed_col, lower_is_better)
    rows = []
    for key, group in winners.groupby(list(cell_cols), sort=True, dropna=False):
        winner, agreeing, total = majority(group["winner"])
        counts = group["winner"].value_counts()
        rows.append(
            {
                **dict(zip(cell_cols, _as_tuple(key), strict=True)),
                "modal_winner": shown(winner),
                "seeds_agreeing": agreeing,
                "seeds_total": total,
                "stable": agreeing == total,
                "winners": ", ".join(
                    f"{shown(name)} ×{n}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                ),
            }
        )
    return pd.DataFrame(
        rows, columns=[*cell_cols, "modal_winner", "seeds_agreeing", "seeds_total", "stable", "winners"]
    )


def _as_tuple(key: object) -> tuple:
    """groupby keys are scalars for one column and tuples for several."""
    return key if isinstance(key, tuple) else (key,)
