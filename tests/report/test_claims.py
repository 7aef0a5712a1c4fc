"""The lesson's claims: each verdict follows the data (synthetic worlds where it holds and not),
and a failing pairwise claim reads its ablation or says how to configure one."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from initlab.report.answers.claims import (
    CLAIMS,
    DOES_NOT_HOLD,
    HOLDS,
    IN_PART,
    REFERENCE_ANSWERS,
    check_claim,
    check_claims,
)
from initlab.report.answers.tables import Tables, normalise_table
from tests.synthetic import (
    LESSON_PROBE_FAILURES,
    curves_table,
    lab_reproduction_table,
    set_runs,
    signal_probe_table,
    training_table,
)

ADAM2 = {"optimizer": "adam", "depth": 2}


def world(training=None, probe_failures=LESSON_PROBE_FAILURES, ablation=None) -> Tables:
    training = training_table() if training is None else training
    return Tables(
        signal_probe=normalise_table("signal_probe", signal_probe_table(failures=probe_failures)),
        training=normalise_table("training", training),
        curves=normalise_table("curves", curves_table(training)),
        lab_reproduction=normalise_table("lab_reproduction", lab_reproduction_table()),
        timings=None,
        ablation=ablation,
    )


def claim(key: str):
    return next(c for c in CLAIMS if c.key == key)


def verdict(key: str, tables: Tables) -> str:
    return check_claim(claim(key), tables).verdict


def without(*pairs):
    return {k: v for k, v in LESSON_PROBE_FAILURES.items() if k not in pairs}


def test_every_claim_holds_in_the_lesson_like_world():
    checks = check_claims(world())
    assert [c.verdict for c in checks] == [HOLDS] * len(CLAIMS)
    assert all(c.seeds_agreeing == c.seeds_total == 3 for c in checks)
    assert set(REFERENCE_ANSWERS) == {"exercise-1", "exercise-2", "exercise-3"}


# (claim, world where it holds only in part, world where it does not hold at all)
FLIPS = {
    "claim-zeros": (
        lambda: world(set_runs(training_table(), {"init": "zeros", "activation": "relu", **ADAM2}, end_loss=0.1)),
        lambda: world(set_runs(training_table(), {"init": "zeros", **ADAM2}, end_loss=0.1)),
    ),
    "claim-tiny": (
        lambda: world(probe_failures=without(("relu", "tiny"))),
        lambda: world(probe_failures=without(("relu", "tiny"), ("tanh", "tiny"))),
    ),
    "claim-large-signal": (
        lambda: world(probe_failures=without(("tanh", "large"))),
        lambda: world(probe_failures=without(("relu", "large"), ("tanh", "large"))),
    ),
    "claim-large-loss": (
        lambda: world(set_runs(training_table(), {"init": "large", "activation": "tanh", **ADAM2}, start_loss=0.8)),
        lambda: world(set_runs(training_table(), {"init": "large", **ADAM2}, start_loss=0.8)),
    ),
    "claim-match-signal": (
        lambda: world(probe_failures={**LESSON_PROBE_FAILURES, ("relu", "he"): (2, "exploded")}),
        lambda: world(
            probe_failures={
                **LESSON_PROBE_FAILURES,
                ("relu", "he"): (2, "exploded"),
                ("tanh", "xavier"): (8, "vanished"),
            }
        ),
    ),
    "claim-match-training": (
        lambda: world(set_runs(training_table(), {"init": "xavier", "activation": "tanh", **ADAM2}, end_loss=0.09)),
        lambda: world(
            set_runs(
                set_runs(training_table(), {"init": "xavier", "activation": "tanh", **ADAM2}, end_loss=0.09),
                {"init": "he", "activation": "relu", **ADAM2},
                end_loss=0.07,
            )
        ),
    ),
    "claim-exercise-1": (
        lambda: world(probe_failures={**LESSON_PROBE_FAILURES, ("relu", "he"): (2, "exploded")}),
        lambda: world(
            probe_failures={**LESSON_PROBE_FAILURES, ("relu", "he"): (2, "exploded"), ("tanh", "he"): (2, "saturated")}
        ),
    ),
    "claim-exercise-3": (
        lambda: world(
            set_runs(
                training_table(),
                {"init": "he", "activation": "relu", "optimizer": "sgd"},
                end_loss=math.nan,
                diverged=True,
            )
        ),
        lambda: world(set_runs(training_table(), {"init": "he", "optimizer": "sgd"}, end_loss=math.nan, diverged=True)),
    ),
}
# Claims tested in one cell only: they hold or do not.
SINGLE_CELL_FLIPS = {
    "claim-usable": lambda: world(
        set_runs(training_table(), {"init": "he", "activation": "relu", **ADAM2}, end_loss=0.924)
    ),
    "claim-exercise-2": lambda: world(
        set_runs(training_table(), {"init": "xavier", "activation": "tanh", **ADAM2}, end_loss=0.09)
    ),
}


@pytest.mark.parametrize("key", sorted(FLIPS))
def test_verdict_flips_to_in_part_and_to_does_not_hold(key):
    part, none = FLIPS[key]
    assert verdict(key, part()) == IN_PART
    assert verdict(key, none()) == DOES_NOT_HOLD


@pytest.mark.parametrize("key", sorted(SINGLE_CELL_FLIPS))
def test_single_cell_claims_flip(key):
    assert verdict(key, world()) == HOLDS
    check = check_claim(claim(key), SINGLE_CELL_FLIPS[key]())
    assert check.verdict == DOES_NOT_HOLD
    assert check.sentence.startswith("Does not hold here: does not hold at ")
    assert check.seeds_agreeing == 3


def test_seed_majority_decides_a_cell():
    training = training_table(seeds=range(5))
    one = set_runs(training, {"init": "zeros", "activation": "relu", "seed": 0, **ADAM2}, end_loss=0.1)
    assert verdict("claim-zeros", world(one)) == HOLDS
    check = check_claim(claim("claim-zeros"), world(one))
    assert check.seeds_agreeing == 4 and check.seeds_total == 5
    three = one
    for seed in (1, 2):
        three = set_runs(three, {"init": "zeros", "activation": "relu", "seed": seed, **ADAM2}, end_loss=0.1)
    assert verdict("claim-zeros", world(three)) == IN_PART


def ablation_table(carrier: int, seeds=range(3), init_a="xavier", init_b="he") -> pd.DataFrame:
    """A depth-2 tanh ablation in which swapping layer ``carrier`` alone brings B's loss."""
    rows = []
    for seed in seeds:
        loss_a, loss_b = 0.05 * (1 + 0.01 * seed), 0.04
        stds = {1: (0.17, 1.0), 2: (0.125, 0.177), 3: (0.174, 0.177)}
        variants = [("all_a", 0, loss_a), ("all_b", 0, loss_b)] + [
            ("swap", layer, loss_b * 1.01 if layer == carrier else loss_a * 0.99) for layer in (1, 2, 3)
        ]
        for variant, layer, loss in variants:
            fan = {1: (2, 64), 2: (64, 64), 3: (64, 2)}.get(layer, (None, None))
            std = stds.get(layer, (None, None))
            rows.append(
                {
                    "seed": seed,
                    "depth": 2,
                    "width": 64,
                    "activation": "tanh",
                    "optimizer": "adam",
                    "lr": 0.01,
                    "steps": 120,
                    "init_a": init_a,
                    "init_b": init_b,
                    "variant": variant,
                    "layer": layer,
                    "fan_in": fan[0],
                    "fan_out": fan[1],
                    "weight_std_a": std[0],
                    "weight_std_b": std[1],
                    "start_loss": 0.7,
                    "end_loss": loss,
                    "val_acc": 0.97,
                    "diverged": False,
                    "diverged_step": None,
                }
            )
    return normalise_table("ablation", pd.DataFrame(rows))


FAILING_EX2 = set_runs(training_table(), {"init": "xavier", "activation": "tanh", **ADAM2}, end_loss=0.09)


@pytest.mark.parametrize("carrier", [1, 3])
def test_a_failing_claim_names_the_layer_its_ablation_finds(carrier):
    check = check_claim(claim("claim-exercise-2"), world(FAILING_EX2, ablation=ablation_table(carrier)))
    assert check.verdict == DOES_NOT_HOLD and not check.missing_ablations
    (result,) = check.ablations
    assert result.carriers == (carrier,)
    name = "hidden layer 1 (fan-in 2, fan-out 64)" if carrier == 1 else "the output layer (fan-in 64, fan-out 2)"
    assert f"The gap sits in {name}" in result.sentence
    assert "3/3 seeds" in result.sentence
    shares = result.numbers.set_index("layer")["share_of_gap"]
    assert shares[carrier] > 0.9 and all(shares.drop(carrier) < 0.1)
    if carrier == 1:
        assert "Xavier draws weights with std 0.17 and He 1 (×5.88)" in result.sentence


def test_an_ablation_with_the_pair_reversed_is_found_too():
    check = check_claim(
        claim("claim-exercise-2"), world(FAILING_EX2, ablation=ablation_table(2, init_a="he", init_b="xavier"))
    )
    assert check.ablations and check.ablations[0].carriers == (2,)


def test_no_single_carrier_is_said():
    table = ablation_table(1)
    table.loc[(table["variant"] == "swap"), "end_loss"] = 0.046
    check = check_claim(claim("claim-exercise-2"), world(FAILING_EX2, ablation=table))
    assert check.ablations[0].carriers == ()
    assert "No single layer carries half of the gap" in check.ablations[0].sentence


def test_a_failing_claim_without_its_ablation_gets_the_config_line():
    check = check_claim(claim("claim-exercise-2"), world(FAILING_EX2, ablation=ablation_table(1).assign(depth=4)))
    assert check.ablations == ()
    assert check.missing_ablations == (
        "  - {init_a: xavier, init_b: he, activation: tanh, depth: 2, width: 64, optimizer: adam, lr: 0.01, "
        "steps: 120}",
    )
    # a claim that holds asks for nothing
    assert check_claim(claim("claim-exercise-2"), world()).missing_ablations == ()


def test_only_the_configured_ablations_are_read():
    tables = world(FAILING_EX2, ablation=ablation_table(1))
    entry = {
        "init_a": "xavier",
        "init_b": "he",
        "activation": "tanh",
        "depth": 2,
        "width": 64,
        "optimizer": "adam",
        "lr": 0.01,
        "steps": 120,
    }
    ex2 = [c for c in check_claims(tables, [entry]) if c.claim.key == "claim-exercise-2"][0]
    assert ex2.ablations and not ex2.missing_ablations
    # the config dropped it: the stale rows are not reported, and the config line is offered instead
    ex2 = [c for c in check_claims(tables, []) if c.claim.key == "claim-exercise-2"][0]
    assert not ex2.ablations and ex2.missing_ablations


def test_the_report_shows_claims_reference_answers_ablations_and_missing_ones(tmp_path, synthetic_report):
    import tests.synthetic as syn
    from initlab.report.render import build_report

    failing = set_runs(FAILING_EX2, {"init": "he", "activation": "relu", **ADAM2}, end_loss=0.07)
    tables_dir = syn.write_tables(tmp_path / "tables", training=failing)
    ablation_table(1).to_csv(tables_dir / "ablation.csv", index=False)
    # the text is what is checked: the figures embedded are the synthetic study's (test_figures draws them)
    page = build_report(
        tables_dir, synthetic_report / "figures", tmp_path / "report.html", {"seeds": [0, 1, 2]}
    ).read_text()
    head = page.index('<section id="lesson-claims">')
    assert head < page.index('<section id="lesson-reproduced">')
    for c in CLAIMS:
        assert f'<details class="claim" id="{c.key}">' in page and f'href="#{c.key}"' in page
    ex2 = page[page.index('<section id="exercise-2">') : page.index('<section id="exercise-3">')]
    assert "The lesson's reference answer, <q>With Tanh, Xavier becomes more competitive.</q>" in ex2
    assert "does not hold here" in ex2 and "Adam: taking only layer 1 from He closes" in ex2
    # the first screen names the cause: the carrying layer and the weight-scale ratio there
    header = page[: page.index("</header>")]
    assert "With Tanh, hidden layer 1 (2 inputs → 64 units) carries" in header and "smaller than He." in header
    # the ReLU match cell fails too, with no ablation configured: the sentence and the line to add
    match = page[page.index('id="claim-match-training"') : page.index('id="claim-usable"')]
    assert "No ablation configured for this cell" in match
    assert "- {init_a: he, init_b: xavier, activation: relu, depth: 2, width: 64, optimizer: adam" in match
