import math

import pytest
import torch

from initlab.engine.ablation import ALL_A, ALL_B, SWAP, Variant, ablate_cell, variant_model, variants
from initlab.engine.cells import AblationCell
from initlab.engine.inits import linear_layers
from initlab.engine.train import TrainSpec, build_initialized, train_cell

SPEC = TrainSpec(depth=2, width=16, activation="tanh", optimizer="adam", lr=0.01, steps=30)


def _same(a, b):
    return (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)) or a == b


def test_variants_cover_every_linear_once():
    assert [(v.name, v.layer) for v in variants(2)] == [(ALL_A, 0), (SWAP, 1), (SWAP, 2), (SWAP, 3), (ALL_B, 0)]


def test_swap_changes_one_layer_and_nothing_else(moons):
    x = torch.from_numpy(moons.x_train)
    a = linear_layers(build_initialized(SPEC, "xavier", 3, x))
    b = linear_layers(build_initialized(SPEC, "he", 3, x))
    swapped = linear_layers(variant_model(SPEC, "xavier", "he", 3, Variant(SWAP, 2), x))
    for i, layer in enumerate(swapped):
        source = b if i == 1 else a
        assert torch.equal(layer.weight, source[i].weight) and torch.equal(layer.bias, source[i].bias)
    assert not torch.equal(swapped[1].weight, a[1].weight)


@pytest.mark.parametrize("init_a, init_b", [("xavier", "he"), ("default", "large")])
def test_all_a_and_all_b_reproduce_plain_training_to_the_bit(moons, init_a, init_b):
    seeds = [0, 4]
    plain, _ = train_cell(moons, SPEC, [init_a, init_b], seeds)
    plain = {(r["init"], r["seed"]): r for r in plain}
    rows = ablate_cell(moons, AblationCell(SPEC, init_a, init_b), seeds)
    assert len(rows) == len(seeds) * len(variants(SPEC.depth))
    checked = 0
    for row in rows:
        init = {ALL_A: init_a, ALL_B: init_b}.get(row["variant"])
        if init is None:
            continue
        ref = plain[(init, row["seed"])]
        for col in ("start_loss", "end_loss", "val_acc", "diverged", "diverged_step"):
            assert _same(row[col], ref[col]), (row["variant"], col, row[col], ref[col])
        checked += 1
    assert checked == 2 * len(seeds)


def test_swap_rows_describe_the_swapped_layer(moons):
    rows = [r for r in ablate_cell(moons, AblationCell(SPEC, "xavier", "he"), [1]) if r["variant"] == SWAP]
    assert [(r["layer"], r["fan_in"], r["fan_out"]) for r in rows] == [(1, 2, 16), (2, 16, 16), (3, 16, 2)]
    first = rows[0]
    # xavier_normal: std sqrt(2 / (fan_in + fan_out)); he (kaiming_normal, relu): sqrt(2 / fan_in)
    assert first["weight_std_a"] == pytest.approx(math.sqrt(2 / 18), rel=0.5)
    assert first["weight_std_b"] > first["weight_std_a"]
    # the swapped model trains differently from both ends
    ends = {r["layer"]: r["end_loss"] for r in rows}
    assert len(set(ends.values())) == 3


def test_bad_names_fail_before_training(moons):
    with pytest.raises(ValueError, match="init"):
        ablate_cell(moons, AblationCell(SPEC, "xavier", "nope"), [0])
    with pytest.raises(ValueError, match="differ"):
        ablate_cell(moons, AblationCell(SPEC, "he", "he"), [0])


def test_cli_writes_the_ablation_rows_and_names_a_bad_init(moons, tmp_path, capsys):
    import csv

    from initlab import cli
    from initlab.engine.data import save_split
    from initlab.study.axes import jobs
    from initlab.study.tables import TABLE

    data = tmp_path / "moons.npz"
    save_split(moons, data)
    entry = {
        "init_a": "xavier",
        "init_b": "he",
        "depth": 1,
        "width": 8,
        "activation": "tanh",
        "optimizer": "sgd",
        "lr": 0.1,
        "steps": 5,
    }
    [job] = jobs({"seeds": [0, 1], "seed_block_size": 10, "inits": [], "ablations": [entry]}, "ablation")
    out = tmp_path / "ablation.csv"
    assert (
        cli.main(
            [
                "job",
                "--job",
                job.to_json(),
                "--data",
                str(data),
                "--out",
                f"ablation={out}",
                "--timings",
                str(tmp_path / "t.csv"),
            ]
        )
        == 0
    )
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == TABLE["ablation"].columns
    assert [(r["seed"], r["variant"], r["layer"]) for r in rows[:4]] == [
        ("0", ALL_A, "0"),
        ("0", SWAP, "1"),
        ("0", SWAP, "2"),
        ("0", ALL_B, "0"),
    ]
    [bad] = jobs(
        {"seeds": [0], "seed_block_size": 10, "inits": [], "ablations": [entry | {"init_b": "glorot"}]}, "ablation"
    )
    assert (
        cli.main(["job", "--job", bad.to_json(), "--data", str(data), "--out", f"ablation={tmp_path / 'b.csv'}"]) == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("initlab job: error:") and "glorot" in err and len(err.splitlines()) == 1
