"""Figure style for many inits: family hues, clipped log axes with edge marks, legends off the data."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

import tests.synthetic as syn
from initlab.report import answers, figures, style


def _hue(s: style.SeriesStyle) -> str:
    return to_hex(s.color)


def test_a_family_shares_a_hue_and_differs_by_line_style_and_marker():
    styles = style.init_styles(answers.INIT_ORDER)
    for first, second in (("xavier", "xavier_uniform"), ("he", "he_uniform")):
        assert _hue(styles[first]) == _hue(styles[second])
        assert styles[first].linestyle != styles[second].linestyle
        assert styles[first].marker != styles[second].marker
    families = {style.family_of(name) for name in answers.INIT_ORDER}
    hues = {style.family_of(name): _hue(styles[name]) for name in answers.INIT_ORDER}
    assert len(set(hues.values())) == len(families)  # one hue per family, no two families alike


def test_custom_inits_get_their_own_hues_and_builtins_do_not_move():
    builtin = style.init_styles(answers.INIT_ORDER)
    custom = ("my_init", "scaled_he", "zz_custom", "another")
    styles = style.init_styles([*answers.INIT_ORDER, *custom])
    assert {name: styles[name] for name in builtin} == builtin
    builtin_hues = {_hue(s) for s in builtin.values()}
    custom_hues = [_hue(styles[name]) for name in custom]
    assert len(set(custom_hues)) == len(custom) and not builtin_hues & set(custom_hues)
    assert style.family_of("scaled_he") is None


def _lines(ax, series: dict[str, np.ndarray]) -> None:
    x = np.arange(10)
    for name, y in series.items():
        ax.plot(x, y, label=name)
    ax.set_yscale("log")


def _edge_marks(ax) -> list:
    return [line for line in ax.get_lines() if line.get_label() == "_clipped"]


def test_a_series_an_order_of_magnitude_beyond_the_others_is_clipped_and_marked():
    fig, ax = plt.subplots()
    flat = {f"init{i}": np.linspace(0.9, 1.0, 10) * (1 + 0.05 * i) for i in range(6)}
    _lines(ax, {**flat, "large": np.full(10, 13.0)})  # over 10x beyond the highest other series (1.25)
    clipping = style.clip_exploding([ax])
    assert clipping.above == ("large",) and not clipping.below
    assert ax.get_ylim()[1] < 13.0
    assert ax.get_ylim()[1] >= max(y.max() for y in flat.values())  # the others stay in full
    marks = _edge_marks(ax)
    assert len(marks) == 1 and marks[0].get_color() == ax.get_lines()[6].get_color()
    assert "large beyond the top" in clipping.caption()
    plt.close(fig)


def test_series_within_an_order_of_magnitude_are_all_drawn_in_full():
    fig, ax = plt.subplots()
    flat = {f"init{i}": np.linspace(0.5, 1.0, 10) * (1 + 0.05 * i) for i in range(6)}
    _lines(ax, {**flat, "large": np.full(10, 6.0)})  # beyond the others, but not by 10x
    before = ax.get_ylim()
    clipping = style.clip_exploding([ax])
    assert not clipping and clipping.caption() == ""
    assert ax.get_ylim() == before and not _edge_marks(ax)
    plt.close(fig)


def test_vanishing_series_are_clipped_only_when_asked_and_thresholds_stay_visible():
    def draw():
        fig, ax = plt.subplots()
        flat = {f"init{i}": np.linspace(0.5, 1.0, 10) * (1 + 0.05 * i) for i in range(6)}
        _lines(ax, {**flat, "tiny": np.logspace(-1, -40, 10)})
        ax.axhline(1e-3, ls="--")  # a threshold: never cut off
        return fig, ax

    fig, ax = draw()
    assert not style.clip_exploding([ax])
    plt.close(fig)
    fig, ax = draw()
    clipping = style.clip_exploding([ax], low=True)
    assert clipping.below == ("tiny",)
    assert 1e-40 < ax.get_ylim()[0] < 1e-3
    assert "tiny below the bottom" in clipping.caption()
    plt.close(fig)


def test_linear_axes_are_left_alone():
    fig, ax = plt.subplots()
    ax.plot(range(3), [1, 2, 3], label="a")
    ax.plot(range(3), [1, 2, 1e6], label="b")
    assert not style.clip_exploding([ax])
    plt.close(fig)


@pytest.mark.parametrize("explodes", [True, False])
def test_loss_curves_clip_an_exploding_init_and_say_so_in_the_caption(tmp_path, explodes):
    training = syn.training_table(seeds=range(2), optimizers=("adam",), activations=("relu",))
    if explodes:  # a loss of 1e12 at the start of every large run, as `large` does at depth 16
        training = syn.set_runs(training, {"init": "large"}, start_loss=1e12, diverged=False, end_loss=1e6)
    tables = answers.load_tables(syn.write_tables(tmp_path / "tables", seeds=range(2), training=training))
    fig = figures.fig_loss_curves(tables)
    captions = " ".join(text.get_text() for text in fig.texts)
    marks = [m for ax in fig.axes for m in _edge_marks(ax)]
    if explodes:
        assert "large beyond the top" in captions and marks
        assert all(ax.get_ylim()[1] < 1e3 for ax in fig.axes)
    else:
        assert "clipped" not in captions and not marks
    assert fig.legends and not any(ax.get_legend() for ax in fig.axes)  # legend outside every panel
    plt.close(fig)


def test_log_labels_are_plain_text_with_the_same_ticks():
    """Inside ``plain_log_labels`` a log axis labels the same ticks, written without mathtext."""
    assert style.plain_math(r"$\mathdefault{10^{-3}}$") == "10⁻³"
    assert style.plain_math(r"$\mathdefault{2\times10^{12}}$") == "2×10¹²"
    assert style.plain_math("layer") == "layer"

    def labels() -> tuple[list[float], list[str]]:
        fig, ax = plt.subplots()
        ax.plot([1, 2], [1e-3, 1e3])
        ax.set_yscale("log")
        fig.canvas.draw()
        ticks = [(t.get_position()[1], t.get_text()) for t in ax.get_yticklabels() if t.get_text()]
        plt.close(fig)
        return [v for v, _ in ticks], [s for _, s in ticks]

    values, mathtext = labels()
    with style.plain_log_labels():
        plain_values, plain = labels()
    assert plain_values == values
    assert plain == [style.plain_math(s) for s in mathtext]
    assert "10⁻³" in plain and not any("$" in s for s in plain)
    assert "$" in mathtext[0]  # outside the block matplotlib's own formatter is back
