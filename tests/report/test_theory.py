"""Theory beside measurement in the report: every computed claim flips with the data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import tests.synthetic as syn
from initlab.report import answers, figures
from initlab.report.answers import theory as th
from initlab.report.answers.probe import exercise_1
from initlab.report.render import build_report
from initlab.study.tables import TABLE


def theory_of(probe: pd.DataFrame, failures=syn.LESSON_PROBE_FAILURES) -> pd.DataFrame:
    """A theory table that predicts exactly the measured median of every cell, and the measured failures."""
    keys = ["activation", "init", "depth", "width", "layer"]
    cells = probe.groupby(keys)[["mean", "std", "zero_ratio", "saturated_ratio", "grad_norm", "act_grad_norm"]]
    table = cells.median().reset_index()
    table["data_dependent"] = False
    table["q"] = table["std"] ** 2
    table["chi"] = 1.0
    table["out_of_range"] = False

    def failure(row: pd.Series) -> str:
        rule = failures.get((row["activation"], row["init"]))
        return rule[1] if rule is not None and row["depth"] >= rule[0] else ""

    table["failure"] = table.apply(failure, axis=1)
    return table[TABLE["theory"].columns]


@pytest.fixture(scope="module")
def probe() -> pd.DataFrame:
    return syn.signal_probe_table()


def where(table: pd.DataFrame, activation: str = "relu", init: str = "he") -> pd.Series:
    return (table["activation"] == activation) & (table["init"] == init)


def pair(comparison: pd.DataFrame, activation: str = "relu", init: str = "he") -> pd.Series:
    return comparison[where(comparison, activation, init)].iloc[0]


def test_agreeing_world(probe):
    comparison = th.theory_comparison(probe, theory_of(probe))
    assert len(comparison) == 2 * len(syn.INITS)
    assert comparison["depth_agrees"].all() and not comparison["parts"].any()
    assert (comparison["median_rel_error"] < 0.05).all()
    sentence = th.theory_sentence(comparison)
    assert f"failure depth exactly for {len(comparison)} of {len(comparison)}" in sentence
    assert sentence.endswith("Nowhere do they part.")


def test_unexplained_gap(probe):
    theory = theory_of(probe)
    theory.loc[where(theory), "std"] *= 3
    row = pair(th.theory_comparison(probe, theory))
    assert row["parts"] and row["depth_agrees"] and row["cause"] == "unexplained"
    assert row["median_rel_error"] == pytest.approx(2.0, rel=0.1)
    assert "part (1 pair), the cause is unexplained for 1 (He with ReLU)." in th.theory_sentence(
        th.theory_comparison(probe, theory)
    )


def test_finite_width_when_the_seeds_spread_as_far_as_the_gap(probe):
    theory = theory_of(probe)
    theory.loc[where(theory), "std"] *= 1.3
    assert pair(th.theory_comparison(probe, theory))["cause"] == "unexplained"  # seeds spread ~5%
    wide = probe.copy()
    spread = wide["seed"].map({0: 0.5, 1: 1.0, 2: 1.6})
    wide.loc[where(wide), "std"] *= spread[where(wide)]
    theory = theory_of(wide)
    theory.loc[where(theory), "std"] *= 1.3
    assert pair(th.theory_comparison(wide, theory))["cause"] == "finite width"


def test_data_dependent_init(probe):
    theory = theory_of(probe)
    theory.loc[where(theory), "std"] *= 3
    theory.loc[where(theory), "data_dependent"] = True
    assert pair(th.theory_comparison(probe, theory))["cause"] == "data-dependent"


def test_float32_range_measured_or_predicted(probe):
    theory = theory_of(probe)
    theory.loc[where(theory), "std"] *= 3
    theory.loc[where(theory) & (theory["depth"] == 32), "out_of_range"] = True
    assert pair(th.theory_comparison(probe, theory))["cause"] == "float32 range"
    measured = probe.copy()
    measured.loc[where(measured) & (measured["depth"] == 32), ["std", "nonfinite_ratio"]] = [math.inf, 0.5]
    theory = theory_of(probe)
    theory.loc[where(theory), "std"] *= 3
    assert pair(th.theory_comparison(measured, theory))["cause"] == "float32 range"


def test_failure_depth_differs(probe):
    # Theory says relu/xavier fails at 8 (vanished); every seed measures 20.
    failures = dict(syn.LESSON_PROBE_FAILURES) | {("relu", "xavier"): (8, "vanished")}
    row = pair(th.theory_comparison(probe, theory_of(probe, failures)), init="xavier")
    assert not row["depth_agrees"] and row["parts"]
    assert (row["predicted_depth"], row["measured_depth"]) == (8.0, 20.0)
    assert row["cause"] == "unexplained"
    # Seeds that fail anywhere from 4 to 32 cover theory's 8: the seeds' spread explains it.
    spread = {("relu", "xavier", 0): (4, "vanished"), ("relu", "xavier", 2): (32, "vanished")}
    wide = syn.signal_probe_table(seed_failures=spread)
    row = pair(th.theory_comparison(wide, theory_of(probe, failures)), init="xavier")
    assert not row["depth_agrees"] and row["cause"] == "finite width"


def test_no_theory_table(probe):
    comparison = th.theory_comparison(probe, None)
    assert comparison.empty and "No theory table" in th.theory_sentence(comparison)


def test_exercise_1_cites_the_prediction(probe):
    sentence = exercise_1(probe, theory_of(probe)).sentence
    assert (
        "ReLU: zeros fails first, at depth 2 "
        "(zeros: vanished, last-layer std 1e-06, theory: fails at depth 2 (vanished))"
    ) in sentence
    failures = dict(syn.LESSON_PROBE_FAILURES) | {("relu", "zeros"): (8, "exploded")}
    flipped = exercise_1(probe, theory_of(probe, failures)).sentence
    assert "(zeros: vanished, last-layer std 1e-06, theory: fails at depth 8 (exploded))" in flipped
    del failures[("relu", "zeros")]
    healthy = exercise_1(probe, theory_of(probe, failures)).sentence
    assert "(zeros: vanished, last-layer std 1e-06, theory: healthy at every probed depth)" in healthy
    assert "theory:" not in exercise_1(probe).sentence


def test_per_layer_figures_draw_the_prediction_dashed(tmp_path, probe):
    tables = answers.load_tables(syn.write_tables(tmp_path / "tables", signal_probe=probe))
    with_theory = answers.Tables(**{**tables.__dict__, "theory": theory_of(probe)})
    palette = set(figures.init_palette(list(syn.INITS)).values())
    for draw, panels in ((figures.fig_signal_std, 2), (figures.fig_signal_ratios, 4), (figures.fig_gradient_norms, 4)):
        for source, expected in ((tables, 0), (with_theory, panels * len(syn.INITS))):
            fig = draw(source)
            dashed = [
                line
                for ax in fig.axes
                for line in ax.get_lines()
                if line.get_linestyle() == "--" and tuple(line.get_color()) in palette
            ]
            assert len(dashed) == expected, draw.__name__
    # Exercise 1's figure carries theory's failure depth (a cross) beside the seeds' majority (a diamond)
    depth_fig = figures.fig_exercise_1(with_theory)
    assert len(depth_fig.axes) == 2
    crosses = depth_fig.axes[0].collections[-1].get_offsets()
    diamonds = depth_fig.axes[0].collections[-2].get_offsets()
    # theory and measurement agree in this world: same depths, the cross drawn just beside the diamond
    np.testing.assert_array_equal(crosses[:, 1], diamonds[:, 1])
    np.testing.assert_allclose(crosses[:, 0] - diamonds[:, 0], figures.THEORY_OFFSET)
    without = figures.fig_exercise_1(tables)
    assert len(without.axes[0].collections) == len(depth_fig.axes[0].collections) - 1  # no theory: no crosses


def test_report_has_the_theory_section(tmp_path, probe, synthetic_report):
    tables_dir = syn.write_tables(tmp_path / "tables", signal_probe=probe)
    theory_of(probe).to_csv(tables_dir / "theory.csv", index=False)
    tables = answers.load_tables(tables_dir)
    # the text is what is checked: the figures embedded are the synthetic study's (the per-layer
    # figures' prediction is checked below)
    html = build_report(
        tables_dir, synthetic_report / "figures", tmp_path / "report.html", {"seeds": [0, 1, 2]}
    ).read_text()
    assert '<section id="theory">' in html
    assert th.theory_sentence(th.theory_comparison(tables.signal_probe, tables.theory)) in html
    assert "theory: fails at depth" in html


def test_at_the_threshold(probe):
    # Theory says tanh/he stays healthy; every seed measures saturated from depth 16.
    failures = {k: v for k, v in syn.LESSON_PROBE_FAILURES.items() if k != ("tanh", "he")}
    theory = theory_of(probe, failures)
    deep = where(theory, "tanh", "he") & (theory["depth"] == 16) & (theory["layer"] == 16)
    theory.loc[deep, "saturated_ratio"] = 0.5 * answers.SATURATED_FRACTION
    row = pair(th.theory_comparison(probe, theory), "tanh", "he")
    assert not row["depth_agrees"] and row["cause"] == "unexplained"
    theory.loc[deep, "saturated_ratio"] = 0.95 * answers.SATURATED_FRACTION
    assert pair(th.theory_comparison(probe, theory), "tanh", "he")["cause"] == "at the threshold"
