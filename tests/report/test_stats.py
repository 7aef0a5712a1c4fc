"""Seed statistics on hand-computable cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from initlab.report import stats


def paired(a: list[float], b: list[float], seeds: list[int] | None = None) -> pd.DataFrame:
    """Two inits over the same seeds in one cell."""
    seeds = seeds if seeds is not None else list(range(len(a)))
    return pd.DataFrame({"cell": "c", "seed": seeds * 2, "init": ["A"] * len(a) + ["B"] * len(b), "loss": a + b})


def pair_row(table: pd.DataFrame, a: str, b: str) -> pd.Series:
    return table[(table["a"] == a) & (table["b"] == b)].iloc[0]


def test_bootstrap_is_deterministic_and_call_order_independent():
    values = [0.046, 0.051, 0.043, 0.060, 0.049, 0.047, 0.055, 0.044, 0.050, 0.052]
    first = stats.bootstrap_mean_ci(values)
    stats.bootstrap_mean_ci([1.0, 5.0, 2.0])  # another call in between must not shift the stream
    second = stats.bootstrap_mean_ci(values)
    assert first == second
    assert first.low < first.mean < first.high
    assert first.mean == pytest.approx(np.mean(values))
    assert first.n == 10 and first.note == ""


def test_bootstrap_ci_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(123)
    true_mean, trials = 1.0, 300
    covered = sum(
        ci.low <= true_mean <= ci.high
        for ci in (stats.bootstrap_mean_ci(rng.normal(true_mean, 2.0, size=25), seed=i) for i in range(trials))
    )
    assert 0.89 <= covered / trials <= 0.99


def test_bootstrap_degenerate_cases_are_explained_not_crashed():
    one = stats.bootstrap_mean_ci([0.3])
    assert one.mean == 0.3 and math.isnan(one.low) and math.isnan(one.high) and "1 seed" in one.note
    same = stats.bootstrap_mean_ci([0.5, 0.5, 0.5])
    assert (same.low, same.mean, same.high) == (0.5, 0.5, 0.5) and "identical" in same.note
    none = stats.bootstrap_mean_ci([math.nan, math.inf])
    assert none.n == 0 and math.isnan(none.mean)
    mixed = stats.bootstrap_mean_ci([1.0, math.inf, 2.0, math.nan, 3.0])
    assert mixed.n == 3 and mixed.mean == pytest.approx(2.0) and "only 3 seeds" in mixed.note


def test_beat_probability_hand_computed():
    # seed 0: 1<2 A wins; seed 1: 2>1 B wins; seed 2: 3<5 A wins; seed 3: tie -> (2 + 0.5) / 4
    table = stats.beat_probability(paired([1, 2, 3, 4], [2, 1, 5, 4]), ["cell"], "loss")
    ab, ba = pair_row(table, "A", "B"), pair_row(table, "B", "A")
    assert (ab["wins"], ab["ties"], ab["losses"], ab["n_pairs"]) == (2, 1, 1, 4)
    assert ab["p_a_beats_b"] == pytest.approx(0.625)
    assert ba["p_a_beats_b"] == pytest.approx(0.375)
    assert not ab["holds_every_seed"]


def test_beat_probability_pairs_by_seed_not_by_row_order():
    df = paired([1, 2, 3, 4], [2, 1, 5, 4])
    shuffled = df.sample(frac=1.0, random_state=3)
    assert pair_row(stats.beat_probability(shuffled, ["cell"], "loss"), "A", "B")["p_a_beats_b"] == pytest.approx(0.625)
    # B lacks seed 3: only the three common seeds are paired
    missing = df[~((df["init"] == "B") & (df["seed"] == 3))]
    row = pair_row(stats.beat_probability(missing, ["cell"], "loss"), "A", "B")
    assert row["n_pairs"] == 3 and row["p_a_beats_b"] == pytest.approx(2 / 3)


def test_nonfinite_loses_and_higher_is_better_flips():
    row = pair_row(stats.beat_probability(paired([math.nan, 1.0], [5.0, 2.0]), ["cell"], "loss"), "A", "B")
    assert row["p_a_beats_b"] == pytest.approx(0.5)
    acc = stats.beat_probability(paired([0.9, 0.8], [0.5, 0.7]), ["cell"], "loss", lower_is_better=False)
    assert pair_row(acc, "A", "B")["p_a_beats_b"] == 1.0
    assert pair_row(acc, "A", "B")["holds_every_seed"]


def test_winner_stability_separates_stable_from_flipping_cells():
    stable = paired([1, 1, 1], [2, 2, 2]).assign(cell="stable")
    flipping = paired([1, 3, 1], [2, 2, 2]).assign(cell="flipping")
    table = stats.winner_stability(pd.concat([stable, flipping]), ["cell"], "loss").set_index("cell")
    assert table.loc["stable", "stable"] and table.loc["stable", "modal_winner"] == "A"
    assert table.loc["stable", "seeds_agreeing"] == 3
    assert not table.loc["flipping", "stable"]
    assert (table.loc["flipping", "seeds_agreeing"], table.loc["flipping", "seeds_total"]) == (2, 3)
    assert table.loc["flipping", "winners"] == "A ×2, B ×1"
    named = stats.winner_stability(pd.concat([stable, flipping]), ["cell"], "loss", label=str.lower)
    assert named.set_index("cell").loc["flipping", "winners"] == "a ×2, b ×1"  # the reader's names, same order


def test_winner_stability_names_tied_winners_for_the_reader():
    from initlab.report.answers.text import display

    tied = paired([1.0], [1.0]).replace({"A": "he", "B": "xavier"})
    table = stats.winner_stability(tied, ["cell"], "loss", label=display)
    assert table["modal_winner"].tolist() == ["He+Xavier"] and table["winners"].tolist() == ["He+Xavier ×1"]


def test_per_seed_winners_joins_exact_ties():
    winners = stats.per_seed_winners(paired([1.0], [1.0]), ["cell"], "loss")
    assert winners["winner"].tolist() == ["A+B"]


def test_spread_by_cell_counts_nonfinite_separately():
    spread = stats.spread_by_cell(paired([1.0, 3.0, math.nan], [2.0, 2.0, 2.0]), ["cell", "init"], "loss")
    a = spread.set_index("init").loc["A"]
    assert (a["n_seeds"], a["n_nonfinite"]) == (3, 1)
    assert (a["mean"], a["min"], a["max"]) == (2.0, 1.0, 3.0)
    assert a["sd"] == pytest.approx(math.sqrt(2))


def test_majority_breaks_ties_deterministically():
    assert stats.majority(["b", "a", "b"]) == ("b", 2, 3)
    assert stats.majority(["b", "a"]) == ("a", 1, 2)
    with pytest.raises(ValueError):
        stats.majority([])


def test_sign_test_is_scipys_binomtest_and_its_interval_brackets_the_share():
    from scipy import stats as scipy_stats

    for wins, losses, ties in ((6, 4, 0), (9, 1, 0), (10, 0, 0), (0, 3, 0), (5, 2, 3)):
        p, low, high = stats.sign_test(wins, losses, ties)
        reference = scipy_stats.binomtest(wins, wins + losses, 0.5)
        ci = reference.proportion_ci(method="exact")
        assert p == pytest.approx(reference.pvalue)
        decided, n = wins + losses, wins + losses + ties
        assert low == pytest.approx((ci.low * decided + ties / 2) / n)
        assert high == pytest.approx((ci.high * decided + ties / 2) / n)
        assert low <= (wins + ties / 2) / n <= high
    # 0.6 from 10 seeds is a coin flip: the interval spans one half and the test does not reject
    p, low, high = stats.sign_test(6, 4)
    assert low < 0.5 < high and p > 0.5
    assert stats.sign_test(0, 0, 4) == (1.0, 0.5, 0.5)


def test_beat_probability_calls_a_preference_only_when_the_sign_test_holds_after_fdr():
    always = paired(list(range(12)), [x + 0.5 for x in range(12)])  # A wins all 12 seeds
    coin = paired([1, 2, 1, 2, 1, 2, 1, 2, 1, 2], [2, 1, 2, 1, 2, 1, 2, 1, 2, 2.5])  # A wins 6 of 10
    table = stats.beat_probability(
        pd.concat([always.assign(cell="always"), coin.assign(cell="coin")]), ["cell"], "loss"
    )
    sure = table[(table["cell"] == "always") & (table["a"] == "A")].iloc[0]
    assert sure["sign_p"] == pytest.approx(2 / 2**12) and sure["prefers"] and sure["p_low"] > 0.5
    flip = table[(table["cell"] == "coin") & (table["a"] == "A")].iloc[0]
    assert flip["p_a_beats_b"] == pytest.approx(0.6)
    assert not flip["prefers"] and flip["p_low"] < 0.5 < flip["p_high"]
    both = table[table["cell"] == "always"].set_index("a")
    assert both.loc["A", "prefers"] == both.loc["B", "prefers"]  # one decision per unordered pair


def test_shift_test_p_is_scipys_permutation_test_and_the_interval_inverts_it():
    from scipy import stats as scipy_stats

    rng = np.random.default_rng(7)
    a, b = rng.lognormal(size=8), rng.lognormal(size=9) + 0.8
    test = stats.shift_test(a, b, paired=False)
    reference = scipy_stats.permutation_test(
        (a, b),
        lambda x, y, axis: np.mean(y, axis=axis) - np.mean(x, axis=axis),
        vectorized=True,
        n_resamples=stats.PERMUTATIONS,
        rng=np.random.default_rng(stats.BOOTSTRAP_SEED),
    )
    assert test.p == pytest.approx(reference.pvalue) and test.diff == pytest.approx(b.mean() - a.mean())
    # at a bound the shifted data are not rejected; just past it they are
    for bound, outward in ((test.low, -1), (test.high, 1)):
        assert stats.shift_test(a, b - bound, paired=False).p > 0.05
        assert stats.shift_test(a, b - bound - outward * 1e-9, paired=False).p <= 0.05
    # paired: seed by seed differences, sign flips enumerated (2^8 < 9999)
    d = stats.shift_test(a[:8], b[:8], paired=True)
    flips = scipy_stats.permutation_test(
        (b[:8] - a[:8],), lambda x, axis: np.mean(x, axis=axis), permutation_type="samples", vectorized=True
    )
    assert d.p == pytest.approx(flips.pvalue) and d.low < d.diff < d.high
    # a non-finite seed is dropped (both sides of its pair when paired); too few seeds say so
    assert stats.shift_test([1.0, np.nan, 2.0, 3.0], [2.0, 3.0, 4.0], paired=False).n_a == 3
    assert "too few seeds" in stats.shift_test([1.0, 2.0], [3.0, 4.0], paired=False).note
    assert "one seed" in stats.shift_test([1.0], [3.0, 4.0], paired=False).note


def test_mean_ci_is_the_t_interval():
    from scipy import stats as scipy_stats

    values = [0.046, 0.051, 0.043, 0.060, 0.049, 0.047, 0.055, 0.044, 0.050, 0.052]
    ci = stats.bootstrap_mean_ci(values)
    half = scipy_stats.t.ppf(0.975, 9) * np.std(values, ddof=1) / np.sqrt(10)
    assert stats.METHODS["mean over seeds"].description.startswith("95 % t-interval")
    assert (ci.low, ci.high) == (pytest.approx(np.mean(values) - half), pytest.approx(np.mean(values) + half))


def test_sign_tests_and_t_intervals_are_scipy_stats_bit_for_bit():
    """The report computes them from scipy.special's kernels (scipy.stats is slow to import): same bits."""
    from scipy import stats as scipy_stats

    wins, losses = (g.ravel().astype(float) for g in np.meshgrid(np.arange(60), np.arange(60)))
    decided, alpha = wins + losses, 1 - stats.CONFIDENCE
    p, low, high = stats.sign_tests(wins, losses, np.zeros_like(wins))
    some = decided > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        expected_p = np.minimum(1.0, 2 * scipy_stats.binom.cdf(np.minimum(wins, losses), decided, 0.5))
        expected_low = np.where(wins > 0, scipy_stats.beta.ppf(alpha / 2, wins, losses + 1), 0.0)
        expected_high = np.where(losses > 0, scipy_stats.beta.ppf(1 - alpha / 2, wins + 1, losses), 1.0)
        expected_low, expected_high = expected_low * decided / decided, expected_high * decided / decided
    assert np.array_equal(p[some], expected_p[some])
    assert np.array_equal(low[some], expected_low[some])
    assert np.array_equal(high[some], expected_high[some])
    rows = np.random.default_rng(0).normal(size=(5, 40))
    for n in range(2, 41):
        mean, se = rows[:, :n].mean(axis=-1), rows[:, :n].std(axis=-1, ddof=1) / np.sqrt(n)
        q = scipy_stats.t.ppf(0.5 + stats.CONFIDENCE / 2, n - 1)
        low, high = stats.t_interval(rows[:, :n])
        assert np.array_equal(low, mean - q * se) and np.array_equal(high, mean + q * se), n
