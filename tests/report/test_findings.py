"""The first screen and the plain answers: every generated sentence follows the data (flip the
data, the sentence flips), stays short, and uses the names a reader writes."""

from __future__ import annotations

import re

import pytest

import tests.synthetic as syn
from initlab.report import answers, captions, render
from initlab.report.answers import claims, findings
from initlab.report.answers.ablation import ablation_answer, layer_shares
from initlab.report.answers.text import DISPLAY_NAMES, display, sig
from tests.report.test_claims import ADAM2, FAILING_EX2, ablation_table, world
from tests.synthetic import LESSON_PROBE_FAILURES

#: A section's answer: at most this many sentences and words (what a person would write).
MAX_SENTENCES, MAX_WORDS = 3, 60


def sentences(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", text.strip()) if s])


def all_answers(tables: answers.Tables) -> dict[str, answers.Answer]:
    return {key: compute(tables) for key, compute in answers.ANSWERS.items()}


@pytest.mark.parametrize("training", [syn.training_table(), FAILING_EX2], ids=["lesson", "xavier-fails"])
def test_headlines_are_short_and_use_plain_names(training):
    for key, answer in all_answers(world(training)).items():
        assert answer.headline.startswith(answer.summary), key
        assert sentences(answer.headline) <= MAX_SENTENCES, (key, answer.headline)
        assert len(answer.headline.split()) <= MAX_WORDS, (key, answer.headline)
        for raw in ("xavier", "relu", "tanh", "adam", "sgd", "default"):  # the tables' keys never reach a reader
            # 'PyTorch default' is the default's display name
            assert not re.search(rf"(?<!PyTorch )\b{raw}\b", answer.headline), (key, raw, answer.headline)
        for raw in ("xavier", "relu", "tanh", "adam", "sgd", "he"):  # nor the detail sentence under it
            assert not re.search(rf"\b{raw}\b", answer.sentence), (key, raw, answer.sentence)


def test_every_built_in_name_has_one_display_name():
    assert set(answers.INIT_ORDER) <= set(DISPLAY_NAMES)
    assert display("xavier") == "Xavier" and display("tanh") == "Tanh" and display("my_init") == "my_init"


def test_three_significant_digits_in_prose_and_tables():
    assert sig(0.046761) == "0.0468" and sig(12345.0) == "1.23e+04" and sig(float("inf")) == "∞"
    assert render.format_number(0.046761) == "0.0468"


def test_exercise_2_headline_flips_with_the_data():
    lesson = answers.exercise_2(syn.training_table())
    failing = answers.exercise_2(FAILING_EX2)
    assert lesson.summary.startswith("Yes: with Tanh, Xavier ends closer to")
    assert failing.summary.startswith("No: with Tanh, Xavier ends no closer to")
    assert "Xavier beats He in" in failing.headline and lesson.headline != failing.headline


def test_exercise_2_summary_names_the_metric():
    failing = answers.exercise_2(FAILING_EX2)
    gap = failing.numbers.set_index("depth").loc[2, "median_seed_gap_tanh"]
    assert f"(median end loss {sig(gap)}× the best init's, against " in failing.summary
    assert "×" not in failing.summary.split("median end loss")[0]


def test_exercise_2_answer_gives_the_ablation_cause_in_plain_words():
    answer = answers.ANSWERS["exercise-2"](world(FAILING_EX2, ablation=ablation_table(1)))
    share = layer_shares(ablation_table(1)).set_index("layer").loc[1, "share_of_gap"]
    cause = (
        f"The cause is the first layer: with only 2 inputs, Xavier draws weights {sig(1.0 / 0.17)}× smaller "
        f"than He there; taking just that layer from He closes {share:.0%} of the gap."
    )
    assert answer.headline == f"{answer.summary} {cause}"
    assert sentences(answer.headline) <= MAX_SENTENCES and len(answer.headline.split()) <= MAX_WORDS
    # the gap sits in the output layer instead: the cause follows (and a wide fan-in is not 'only')
    moved = answers.ANSWERS["exercise-2"](world(FAILING_EX2, ablation=ablation_table(3)))
    assert "The cause is the output layer: with 64 inputs, Xavier draws weights" in moved.headline
    # no ablation: the seed-count sentence instead; Xavier competitive: no cause to give
    assert "Xavier beats He in" in answers.ANSWERS["exercise-2"](world(FAILING_EX2)).headline
    lesson = answers.ANSWERS["exercise-2"](world(ablation=ablation_table(1)))
    assert lesson.verdict == "yes" and "The cause is" not in lesson.headline


def test_a_layer_short_of_carrying_the_gap_is_not_called_the_cause():
    weak = ablation_table(1)
    swap1 = (weak["variant"] == "swap") & (weak["layer"] == 1)
    weak.loc[swap1, "end_loss"] = weak.loc[swap1, "end_loss"] * 1.12  # moves only part of the way to He
    share = layer_shares(weak).set_index("layer").loc[1, "share_of_gap"]
    assert share < findings.CARRIES_SHARE
    cause = findings.exercise2_cause(world(FAILING_EX2, ablation=weak))
    assert cause.startswith("The largest part of the gap is in the first layer:") and f"{share:.0%}" in cause


def test_exercise_3_and_next_probe_headlines_name_the_fragile_init():
    training = syn.training_table()
    ex3 = answers.exercise_3(training)
    assert ex3.summary.startswith(
        "Large becomes most fragile: with SGD it fails in 100% of seeds (diverged in 3/3 seeds)"
    )
    assert ex3.summary.endswith("against 0% with Adam.")
    sturdy = syn.set_runs(training, {"init": "large", "optimizer": "sgd"}, end_loss=0.05, diverged=False, val_acc=0.97)
    moved = answers.exercise_3(sturdy)
    assert "Large" not in moved.summary.split(":")[0]
    deeper = answers.next_probe(training)
    assert deeper.summary.startswith("Tiny becomes fragile first: it trains at depth 2 but fails in most seeds")


def test_exercise_1_headline_groups_activations_and_follows_the_probe():
    probe = syn.signal_probe_table()
    answer = answers.exercise_1(probe)
    # the exercise proper (the depth effect) leads; the inits that fail at any depth follow
    assert answer.summary.startswith("Of the inits healthy at depth 8, first to fail by 20:")
    assert "First to fail at any depth:" in answer.summary
    assert "ReLU" in answer.summary and "Tanh" in answer.summary
    failures = {k: v for k, v in syn.LESSON_PROBE_FAILURES.items() if k[0] != "tanh"}
    healthier = answers.exercise_1(syn.signal_probe_table(failures=failures))
    assert healthier.summary != answer.summary
    assert " then " not in answer.verdict  # the chip names each depth: no order the data lacks


def test_findings_list_every_answer_then_each_claim_that_fails_with_its_cause():
    tables = world(FAILING_EX2, ablation=ablation_table(1))
    checks = claims.check_claims(tables)
    found = findings.findings(all_answers(tables), dict(render.SECTIONS), checks)
    assert [f.link for f in found[:4]] == list(answers.ANSWERS)
    departures = {f.link: f for f in found if f.departure}
    assert set(departures) == {c.claim.key for c in checks if c.verdict in (claims.IN_PART, claims.DOES_NOT_HOLD)}
    ex2 = departures["claim-exercise-2"].sentence
    assert "hidden layer 1 (2 inputs → 64 units) carries" in ex2
    assert f"Xavier draws weights {sig(1.0 / 0.17)}× smaller than He" in ex2
    # the ablation puts the gap in the output layer instead: the finding says so
    moved = findings.findings(
        all_answers(tables), dict(render.SECTIONS), claims.check_claims(world(FAILING_EX2, ablation=ablation_table(3)))
    )
    ex2_moved = next(f.sentence for f in moved if f.link == "claim-exercise-2")
    assert "the output layer (64 inputs → 2 units) carries" in ex2_moved


def test_a_claim_without_ablation_names_what_the_failing_seeds_showed():
    tables = world()
    tiny = next(c for c in claims.check_claims(tables) if c.claim.key == "claim-match-signal")
    assert findings.claim_cause(tiny) == "" or "seeds showed" in findings.claim_cause(tiny)


def test_claim_counts_are_per_cell_and_never_one_misleading_number():
    check = next(c for c in claims.check_claims(world(FAILING_EX2)) if c.claim.key == "claim-exercise-2")
    assert claims.agreement_text(check) == "Tanh 0/3"
    zeros = next(c for c in claims.check_claims(world()) if c.claim.key == "claim-zeros")
    assert claims.agreement_text(zeros) == ", ".join(
        f"{display(a)} 3/3" for a in sorted(syn.training_table()["activation"].unique())
    )


def test_ablation_shares_and_interaction_add_up():
    numbers = layer_shares(ablation_table(1))
    assert numbers["share_of_gap"].sum() + numbers.attrs["interaction_share"] == pytest.approx(1.0)
    sentence = ablation_answer(ablation_table(1)).sentence
    assert "interaction" in sentence
    table = render._ablation_table(ablation_answer(ablation_table(1)))
    assert table["layer"].iloc[-1].startswith("interaction")


def test_exercise_1_grid_colours_each_cell_by_its_failure_mode():
    summary = answers.exercise_1(syn.signal_probe_table()).numbers
    grid = str(render.exercise1_grid(summary))
    assert grid.count("<tr>") == 1 + summary["activation"].nunique()
    row = summary.iloc[0]
    assert f'class="mode-{(row["failure"] or "healthy").replace(" ", "-")}"' in grid
    flipped = summary.assign(failure="exploded")
    assert 'class="mode-exploded"' in str(render.exercise1_grid(flipped))
    assert "PyTorch default" in grid and ">default<" not in grid


# --------------------------------------------------------------------------
# Captions: computed, and they follow the data
# --------------------------------------------------------------------------


def test_every_figure_has_a_caption_of_takeaway_and_how_to_read():
    from initlab.report import figures

    assert set(captions.CAPTIONS) == set(figures.FIGURES)
    tables = world(ablation=ablation_table(1))
    for name in render.SECTION_FIGURES.values():
        for figure in name:
            takeaway, how = captions.caption(figure, tables)
            assert takeaway.endswith(".") and how.endswith("."), figure
            assert figure not in takeaway


FLIPS = {
    "exercise3_fragility.png": lambda t: syn.set_runs(
        t, {"init": "he", "optimizer": "sgd"}, diverged=True, end_loss=float("nan")
    ),
    "training_lesson_cell.png": lambda t: syn.set_runs(
        t, {"init": "zeros", **ADAM2, "activation": "relu"}, end_loss=1e-4
    ),
    "next_probe_depth.png": lambda t: syn.set_runs(
        t, {"init": "he", "optimizer": "adam"}, end_loss=0.69, start_loss=0.7
    ),
    "exercise2_xavier.png": lambda t: FAILING_EX2,
    "seed_beat_probability.png": lambda t: syn.set_runs(t, {"init": "he", "seed": 0, **ADAM2}, end_loss=5.0),
}


@pytest.mark.parametrize("name", sorted(FLIPS))
def test_a_caption_changes_when_its_data_does(name):
    training = syn.training_table()
    before = captions.caption(name, world(training))[0]
    after = captions.caption(name, world(FLIPS[name](training.copy())))[0]
    assert before != after, name


def test_the_ablation_caption_reads_the_carrying_layer():
    one = captions.caption("exercise2_ablation.png", world(FAILING_EX2, ablation=ablation_table(1)))[0]
    three = captions.caption("exercise2_ablation.png", world(FAILING_EX2, ablation=ablation_table(3)))[0]
    cell = "Tanh, 2 hidden layers of 64, Adam: "  # the cell the ablation ran in, from its rows
    assert one.startswith(cell + "taking only layer 1 from He") and three.startswith(
        cell + "taking only layer 3 from He"
    )
    none = captions.caption("exercise2_ablation.png", world(FAILING_EX2))[0]
    assert none.startswith("No layer-swap ablation")


def test_signal_caption_counts_pairs_outside_the_band():
    tables = world()
    before = captions.caption("signal_std.png", tables)[0]
    probe = tables.signal_probe.copy()
    probe.loc[probe["init"] == "he", "std"] = 1e6
    after = captions.caption("signal_std.png", world().__class__(**{**tables.__dict__, "signal_probe": probe}))[0]

    def count(text: str) -> int:
        found = re.search(r"vanished for (\w+) of \d+ \(activation, init\) pairs.* exploded for (\w+)", text)
        return sum(0 if n == "none" else int(n) for n in found.groups())

    assert count(after) > count(before) and "exploded for none" not in after and "He with" in after


def test_figures_block_carries_caption_alt_and_display_width(synthetic_report):
    page = (synthetic_report / "out" / "report.html").read_text(encoding="utf-8")
    figures_shown = re.findall(r'<img src="data:image/png;base64,[^"]*" alt="([^"]*)" width="(\d+)"', page)
    assert figures_shown and all(not alt.endswith(".png") for alt, _ in figures_shown)
    assert all(int(width) <= 1060 for _, width in figures_shown)  # drawn for the text column
    numbers = [int(n) for n in re.findall(r"<strong>Figure (\d+)\.</strong>", page)]
    assert numbers == list(range(1, len(numbers) + 1))
    assert 'id="crit-run-failure"' in page and page.count('href="#crit-run-failure"') >= 2


def test_no_paragraph_appears_twice(synthetic_report):
    page = (synthetic_report / "out" / "report.html").read_text(encoding="utf-8")
    body = page[page.index("<body>") :]
    paragraphs = [
        re.sub(r"<[^>]+>|\s+", " ", p).strip() for p in re.findall(r"<(?:p|li)[^>]*>(.*?)</(?:p|li)>", body, re.S)
    ]
    long = [p for p in paragraphs if len(p) > 40]
    assert len(long) == len(set(long)), [p for p in long if long.count(p) > 1][:3]


def test_exercise_1_caption_names_who_fails_first_and_who_survives():
    lesson = captions.caption("exercise1_failure_depth.png", world())[0]
    assert lesson.startswith("Zeros fails first with every activation (by depth 2)")
    he_too = {**LESSON_PROBE_FAILURES, ("relu", "he"): (2, "exploded"), ("tanh", "he"): (2, "saturated")}
    flipped = captions.caption("exercise1_failure_depth.png", world(probe_failures=he_too))[0]
    assert flipped.startswith("Zeros and He fail first with every activation (by depth 2)")
    count = lambda text, act: re.search(rf"(\w+)(?: of \d+ inits)? with {act}", text)[1]  # noqa: E731
    assert int(count(flipped, "ReLU")) == int(count(lesson, "ReLU")) - 1
    apart = {("relu", "zeros"): (2, "vanished"), ("tanh", "large"): (4, "saturated")}
    split = captions.caption("exercise1_failure_depth.png", world(probe_failures=apart))[0]
    assert split.startswith("The first to fail depends on the activation: zeros with ReLU (depth 2), large with Tanh")


def test_saturation_and_gradient_captions_follow_the_probe():
    lesson = captions.caption("signal_ratios.png", world())[0]
    assert lesson.startswith("Saturation stalls large with Tanh; He with Tanh:")
    calm = {k: v for k, v in LESSON_PROBE_FAILURES.items() if v[1] != "saturated"}
    assert captions.caption("signal_ratios.png", world(probe_failures=calm))[0].startswith("No init saturates")
    assert captions.caption("gradient_norms.png", world())[0].startswith("The gradient reaches the first layer")
    faded = {**LESSON_PROBE_FAILURES, ("tanh", "default"): (2, "gradient vanished")}
    gradient = captions.caption("gradient_norms.png", world(probe_failures=faded))[0]
    assert gradient.startswith("The gradient fades on its way back for 1 of 12 pairs, most with Tanh (1 of 6 inits)")


def test_exercise_2_caption_says_whether_xavier_closes_the_gap():
    lesson = captions.caption("exercise2_xavier.png", world())[0]
    failing = captions.caption("exercise2_xavier.png", world(FAILING_EX2))[0]
    assert lesson.startswith("With Tanh, Xavier closes the gap to the best init: at depth 2")
    assert failing.startswith("With Tanh, Xavier does not close the gap to the best init: at depth 2")
    assert "further from the best with Tanh at" in failing and "closer to the best with Tanh at" in lesson


def test_exercise_3_caption_names_the_init_fragile_under_sgd():
    lesson = captions.caption("exercise3_fragility.png", world())[0]
    assert lesson.startswith("Large is fragile under SGD: its runs fail in 100% of seeds, against 0% with Adam")
    calm = syn.set_runs(
        syn.training_table(), {"optimizer": "sgd", "init": "large"}, diverged=False, end_loss=0.1, val_acc=0.97
    )
    assert captions.caption("exercise3_fragility.png", world(calm))[0] == (
        "No init is fragile under SGD: none fails more often than with Adam."
    )


def test_winner_captions_name_the_best_init_and_whether_it_wins_everywhere():
    lesson = captions.caption("training_cells.png", world())[0]
    assert lesson.startswith("No init has the lowest median end loss everywhere")
    everywhere = syn.set_runs(syn.training_table(), {"init": "default"}, end_loss=1e-4)
    assert captions.caption("training_cells.png", world(everywhere))[0] == (
        "PyTorch default has the lowest median end loss in all 16 training cells."
    )


def test_ablation_caption_states_the_share_the_table_shows():
    rows = ablation_table(1)
    share = layer_shares(rows).set_index("layer").loc[1, "share_of_gap"]
    text = captions.caption("exercise2_ablation.png", world(FAILING_EX2, ablation=rows))[0]
    assert f"closes {share:.0%} of Xavier's gap to He" in text


def test_verdicts_use_display_names():
    """The verdict strings reach readers (the compare page lists them): no table key in them."""
    for training in (syn.training_table(), FAILING_EX2):
        for key, answer in all_answers(world(training)).items():
            for raw in ("xavier", "relu", "tanh", "adam", "sgd", "he", "default"):
                assert not re.search(rf"\b{raw}\b", answer.verdict), (key, raw, answer.verdict)
