"""Figures: a fixed set of PNG files whatever the data, without crashing on NaN/inf or one seed."""

from __future__ import annotations

import math

import matplotlib
import pytest

import tests.synthetic as syn
from initlab.report import answers, figure_data, figures

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def rendered(directory) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir()}


@pytest.fixture(scope="module")
def lesson_figures(synthetic_report):
    """The synthetic tables and the folder with their figures (``initlab figures``, drawn once for
    the report stage's tests)."""
    return answers.load_tables(synthetic_report / "tables"), synthetic_report


def test_every_registered_figure_is_a_png(lesson_figures):
    _, base = lesson_figures
    files = rendered(base / "figures")
    assert set(files) == set(figures.FIGURES)
    assert all(content.startswith(PNG_SIGNATURE) and len(content) > 5000 for content in files.values())


def test_figures_use_the_agg_backend():
    assert matplotlib.get_backend().lower() == "agg"


def test_same_tables_give_identical_files(lesson_figures, tmp_path):
    tables, base = lesson_figures
    paths = figures.render_figures(tables, tmp_path)
    assert [p.name for p in paths] == list(figures.FIGURES)
    assert rendered(tmp_path) == rendered(base / "figures")


def test_drawing_in_parallel_gives_the_same_files(lesson_figures, tmp_path):
    """Two forked workers (the figures rule's two threads) write the bytes the serial loop writes."""
    tables, base = lesson_figures
    paths = figures.render_figures(tables, tmp_path, workers=2)
    assert [p.name for p in paths] == list(figures.FIGURES)
    assert rendered(tmp_path) == rendered(base / "figures")


def test_file_set_does_not_depend_on_the_data(tmp_path):
    """One seed, one training cell (no tanh, no SGD, one depth), NaN/inf values: same files, no crash."""
    probe = syn.signal_probe_table(
        seeds=[0], failures={("relu", "large"): (4, "non-finite"), ("relu", "tiny"): (2, "vanished")}
    )
    training = syn.training_table(seeds=[0], activations=("relu",), optimizers=("adam",), depths=(2,))
    training = syn.set_runs(training, {"init": "he"}, end_loss=math.inf, diverged=True)
    tables = answers.load_tables(
        syn.write_tables(tmp_path / "tables", seeds=[0], training=training, signal_probe=probe)
    )
    figures.render_figures(tables, tmp_path / "figures")
    files = rendered(tmp_path / "figures")
    assert set(files) == set(figures.FIGURES)
    assert all(content.startswith(PNG_SIGNATURE) for content in files.values())


def test_a_flat_linear_panel_is_not_magnified():
    import matplotlib.pyplot as plt

    from initlab.report.figures import MIN_LINEAR_SPAN, _keep_visible_range

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [0.0, 1e-75, 0.0])
    _keep_visible_range(ax)
    low, high = ax.get_ylim()
    assert high - low >= MIN_LINEAR_SPAN and low < 0 < high
    ax.plot([1, 2, 3], [0.1, 0.5, 0.9])
    ax.relim()
    ax.autoscale_view()
    before = ax.get_ylim()
    _keep_visible_range(ax)
    assert ax.get_ylim() == before  # a real spread is left alone
    plt.close(fig)


def test_every_figure_is_drawn_at_twice_the_density_with_no_text_below_11_px(synthetic_report):
    """The report shows a PNG at its pixel width / (DPI / 96): at that size every text is >= 11 CSS px
    and the figure fits the text column (about 1,060 px at a 1280 px window)."""
    from initlab.report import render

    for path in sorted((synthetic_report / "figures").glob("*.png")):
        facts = render.png_facts(path)
        assert int(facts["dpi"]) == 2 * figure_data.SCREEN_PPI, path.name
        shown = int(facts["width"]) * figure_data.SCREEN_PPI / int(facts["dpi"])
        assert shown <= 1060, (path.name, shown)
        assert float(facts["min_pt"]) * figure_data.SCREEN_PPI / 72 >= 11, (path.name, facts["min_pt"])


def test_pair_colours_found_by_display_name_and_distinct_per_group():
    # figures label groups with display names; the colour must follow the group, not fall back to one blue
    assert figures.pair_colour("ReLU") == figures.pair_colour("relu")
    assert figures.pair_colour("Tanh") != figures.pair_colour("ReLU")
    assert figures.pair_colour("SGD") != figures.pair_colour("Adam")
    assert figures.pair_colour("unknown") is None


def test_ablation_title_names_the_cell_from_its_rows():
    import pandas as pd

    cell = pd.Series({"activation": "tanh", "depth": 2, "width": 64, "optimizer": "adam"})
    assert figures.ablation_cell_title(cell) == "Tanh, 2 hidden layers of 64, Adam"
    changed = cell.copy()
    changed["activation"], changed["optimizer"] = "relu", "sgd"
    assert figures.ablation_cell_title(changed) == "ReLU, 2 hidden layers of 64, SGD"
