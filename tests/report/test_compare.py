"""initlab compare on synthetic pairs of result sets: identical, one ulp off, a flipped verdict,
disjoint seeds, a missing table, different configs and package versions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tests.synthetic as syn
from initlab.cli import main
from initlab.report import stats
from initlab.report.compare import UnreadableInput, compare, exit_status
from initlab.report.compare.output import render_html, terminal_summary
from initlab.report.compare.seedstats import diff_of_means
from initlab.report.compare.tablediff import format_values
from initlab.report.compare.verdicts import VERDICTS, flip_chance, support_p_value

CONFIG = {"seeds": [0, 1, 2], "seed_block_size": 10, "training": {"steps": 120, "width": 64}}
PACKAGES = {"initlab": "0.1.0", "torch": "2.13.0", "numpy": "2.3.0"}


def provenance_record(packages: dict[str, str], commit: str = "abc123", train_py: str = "0a8e") -> dict:
    """A run's provenance.json (initlab.study.provenance) with these versions, commit and trainer hash."""
    train = {
        "fingerprint": f"fp-{train_py}",
        "files": {"engine/train.py": train_py, "cli.py": "c1"},
        "packages": {"torch": packages.get("torch", "?")},
    }
    return {
        "git": {"commit": commit, "dirty": False},
        "code": {"package": "/src/initlab"},
        "fingerprints": {"train": train},
        "tables": {},
        "packages": packages,
        "python": "3.11.9",
        "machine": {"cpu_count": 2},
        "threads": {"train": 1},
        "timings": {"jobs": 3},
    }


def result_set(
    folder: Path,
    seeds=range(3),
    training: pd.DataFrame | None = None,
    config: dict | None = None,
    packages: dict[str, str] | None = None,
    train_py: str = "0a8e",
) -> Path:
    """A synthetic results/ folder: tables/, config.json and provenance.json (no report.html)."""
    seeds = list(seeds)
    training = syn.training_table(seeds=seeds) if training is None else training
    syn.write_tables(folder / "tables", seeds=seeds, training=training)
    (folder / "config.json").write_text(json.dumps(config or {**CONFIG, "seeds": seeds}))
    (folder / "provenance.json").write_text(json.dumps(provenance_record(packages or PACKAGES, train_py=train_py)))
    return folder


def test_identical_pair_same_verdicts_exit_0(tmp_path, capsys):
    a, b = result_set(tmp_path / "a"), result_set(tmp_path / "b")
    result = compare(a, b)
    assert all(t.identical for t in result.tables) and result.seeds is None
    assert not result.changed and not result.provenance.differences
    assert {v.kind for v in result.verdicts} == set(VERDICTS)
    assert main(["compare", str(a), str(b / "tables")]) == 0  # a tables folder works as well
    out = capsys.readouterr().out
    assert "training          identical (byte for byte)" in out
    assert out.rstrip().endswith("every table byte-identical (exit 0)")


def one_ulp_up(value: float) -> float:
    return float(np.nextafter(np.float32(value), np.float32(np.inf)))


def test_one_ulp_is_found_and_located_and_verdicts_stay(tmp_path, capsys):
    training = syn.training_table()
    where = (
        (training["seed"] == 1)
        & (training["depth"] == 4)
        & (training["activation"] == "tanh")
        & (training["optimizer"] == "sgd")
        & (training["init"] == "he")
    )
    moved = training.copy()
    moved.loc[where, "end_loss"] = one_ulp_up(float(np.float32(training.loc[where, "end_loss"].iloc[0])))
    training.loc[where, "end_loss"] = float(np.float32(training.loc[where, "end_loss"].iloc[0]))
    a, b = result_set(tmp_path / "a", training=training), result_set(tmp_path / "b", training=moved)
    result = compare(a, b)
    diff = {t.name: t for t in result.tables}
    assert [t.name for t in result.tables if not t.identical] == ["training", "curves"]  # curves follow end_loss
    (column,) = diff["training"].columns
    assert column.column == "end_loss" and column.cells == 1
    assert column.max_ulps == pytest.approx(1.0)
    assert column.where == "seed 1, depth 4, width 64, activation tanh, optimizer sgd, lr 0.1, steps 120, init he"
    assert not result.changed and exit_status(result) == 0
    assert exit_status(result, require_identical=True) == 1
    assert main(["compare", str(a), str(b), "--require-identical"]) == 1
    out = capsys.readouterr().out
    assert "end_loss: 1 cells" in out and "1 float32 ulps" in out
    # paired seeds: the difference's interval is around the one-ulp change, not a spread of seeds
    end_loss = result.seeds.cells["training.end_loss"]
    assert end_loss["paired"].all() and end_loss["differs"].sum() <= 1


def test_a_flipped_verdict_exits_1_and_says_the_numbers_moved(tmp_path, capsys):
    flipped = syn.set_runs(syn.training_table(), {"activation": "tanh", "init": "xavier"}, end_loss=0.2)
    a, b = result_set(tmp_path / "a"), result_set(tmp_path / "b", training=flipped)
    result = compare(a, b)
    changed = {v.key: v for v in result.changed}
    assert "exercise-2" in changed
    assert (changed["exercise-2"].a.verdict, changed["exercise-2"].b.verdict) == ("yes", "no")
    assert "same seeds" in changed["exercise-2"].note
    assert main(["compare", str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "CHANGED  exercise-2: A yes (3/3 seeds) → B no (3/3 seeds)" in out
    # and back: the unchanged pair gives 0, so the flip is what makes the 1
    assert main(["compare", str(a), str(a)]) == 0


def test_disjoint_seeds_rows_counted_and_statistics_unpaired(tmp_path, capsys):
    a, b = result_set(tmp_path / "a", seeds=range(3)), result_set(tmp_path / "b", seeds=range(10, 13))
    result = compare(a, b)
    training = {t.name: t for t in result.tables}["training"]
    assert training.rows_both == 0 and training.only_a == training.only_b == len(syn.training_table())
    assert training.row_changes == ["B adds seed 10–12", "B lacks seed 0–2"]
    end_loss = result.seeds.cells["training.end_loss"]
    assert len(end_loss) == 4 * 2 * 2 * len(syn.INITS) and not end_loss["paired"].any()
    assert {"diff", "ci_low", "ci_high", "ks_p", "consistent"} <= set(end_loss.columns)
    # the synthetic world has the same outcomes in every seed but for a sin() wobble: same verdicts
    assert not result.changed
    seeds_diff = {d.key: d for d in result.provenance.group("config")}
    assert seeds_diff["seeds"].a == "[0, 1, 2]" and seeds_diff["seeds"].b == "[10, 11, 12]"
    assert main(["compare", str(a), str(b)]) == 0
    assert "B adds seed 10–12; B lacks seed 0–2" in capsys.readouterr().out


def partly_flipped(seeds, against: int) -> pd.DataFrame:
    """Xavier under Tanh worse than under ReLU (the exercise-2 'no') in the first ``against`` seeds."""
    training = syn.training_table(seeds=seeds)
    for seed in list(seeds)[:against]:
        training = syn.set_runs(training, {"seed": seed, "activation": "tanh", "init": "xavier"}, end_loss=0.2)
    return training


def test_verdict_change_between_disjoint_seeds_is_said_with_its_likelihood(tmp_path):
    # A: 'yes' in 6 of 10 seeds; B: 'no' in 6 of 10 seeds: a change well within seed noise
    a = result_set(tmp_path / "a", seeds=range(10), training=partly_flipped(range(10), 4))
    b = result_set(tmp_path / "b", seeds=range(10, 20), training=partly_flipped(range(10, 20), 6))
    noisy = {v.key: v for v in compare(a, b).verdicts}["exercise-2"]
    assert noisy.status == "changed"
    assert (noisy.a.seeds_agreeing, noisy.b.seeds_agreeing) == (6, 6)
    assert noisy.support_p > 0.05 and "within seed noise" in noisy.note
    assert noisy.flip_chance == pytest.approx(flip_chance(6, 10, 4, 10)) and noisy.flip_chance > 0.3
    # A: 'yes' in every seed; B: 'no' in every seed: the seeds' support itself moved
    c = result_set(tmp_path / "c", seeds=range(10, 20), training=partly_flipped(range(10, 20), 10))
    real = {v.key: v for v in compare(a.parent / "a", c).verdicts}["exercise-2"]
    assert real.status == "changed" and real.support_p < 0.05 and "more than seed noise" in real.note


def test_flip_chance_and_support_test():
    assert flip_chance(10, 10, 10, 10) == 0.0  # unanimous on both sides: never flips
    assert flip_chance(5, 10, 5, 10) == pytest.approx(2 * 0.376953125 * (1 - 0.376953125))
    assert flip_chance(6, 10, 4, 10) == flip_chance(4, 10, 6, 10)
    assert support_p_value(10, 10, 0, 10) < 1e-4
    assert support_p_value(6, 10, 6, 10) == 1.0


def test_missing_table_exits_2_with_one_line(tmp_path, capsys):
    a, b = result_set(tmp_path / "a"), result_set(tmp_path / "b")
    (b / "tables/curves.csv").unlink()
    with pytest.raises(UnreadableInput, match=r"B = .*: missing table curves\.csv"):
        compare(a, b)
    assert main(["compare", str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "curves.csv" in err and "Traceback" not in err
    assert main(["compare", str(a), str(tmp_path / "nowhere")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_table_lacking_a_column_exits_2(tmp_path, capsys):
    a, b = result_set(tmp_path / "a"), result_set(tmp_path / "b")
    training = pd.read_csv(b / "tables/training.csv").drop(columns=["val_acc"])
    training.to_csv(b / "tables/training.csv", index=False)
    assert main(["compare", str(a), str(b)]) == 2
    assert "lacks columns val_acc" in capsys.readouterr().err


def test_config_and_package_differences_are_listed(tmp_path, capsys):
    a = result_set(tmp_path / "a")
    b = result_set(
        tmp_path / "b",
        config={**CONFIG, "seed_block_size": 1, "training": {"steps": 60, "width": 64}},
        packages={**PACKAGES, "torch": "2.14.0"},
    )
    result = compare(a, b)
    config = {d.key: d for d in result.provenance.group("config")}
    assert set(config) == {"seed_block_size", "training.steps"}
    assert "job layout only" in config["seed_block_size"].remark and config["training.steps"].b == "60"
    (torch,) = result.provenance.group("packages")
    assert (torch.key, torch.a, torch.b) == ("torch", "2.13.0", "2.14.0")
    assert main(["compare", str(a), str(b)]) == 0  # provenance differs, tables and verdicts do not
    out = capsys.readouterr().out
    assert "packages torch: 2.13.0 → 2.14.0" in out and "config training.steps: 120 → 60" in out


def test_provenance_is_read_from_the_record_and_names_the_changed_code(tmp_path, capsys):
    a = result_set(tmp_path / "a")
    b = result_set(tmp_path / "b", train_py="77ff")
    assert not (a / "report.html").exists()  # no report needed
    result = compare(a, b)
    assert result.a.provenance["git"]["commit"] == "abc123"
    (code,) = result.provenance.group("code")
    assert (code.key, code.a, code.b) == ("train", "fp-0a8e", "fp-77ff")
    assert code.remark == "other code: engine/train.py"
    assert not result.provenance.group("run") and not result.provenance.group("packages")
    assert main(["compare", str(a), str(b)]) == 0  # code differs, tables and verdicts do not
    assert "code train: fp-0a8e → fp-77ff (other code: engine/train.py)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "table, garbage, problem",
    [
        ("training", "this line is garbage\n", "line {n} has 1 fields, not 16"),
        ("signal_probe", "x,relu,he,2,64,1,0.1,0.2,0.0,0.0,0.0,0.5,0.5\n", "line {n}: seed is 'x', not a number"),
        ("curves", "0,2,64,relu,adam,0.01,he,10,lots\n", "line {n}: loss is 'lots', not a number"),
    ],
)
def test_a_garbage_line_is_one_line_naming_file_line_and_problem(tmp_path, capsys, table, garbage, problem):
    a, b = result_set(tmp_path / "a"), result_set(tmp_path / "b")
    path = b / "tables" / f"{table}.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3] + [garbage] + lines[3:]))
    with pytest.raises(UnreadableInput, match="^" + re.escape(f"{path}: {problem.format(n=4)}")):
        compare(a, b)
    assert main(["compare", str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}: {problem.format(n=4)}" in err and "merge" not in err


def test_without_report_or_config_says_what_was_not_compared(tmp_path, capsys):
    a = syn.write_tables(tmp_path / "a" / "tables")
    b = syn.write_tables(tmp_path / "b" / "tables")
    result = compare(a, b)
    assert len(result.provenance.unavailable) == 2
    assert "not compared: config" in terminal_summary(result)


def test_html_page_has_every_section(tmp_path):
    flipped = syn.set_runs(syn.training_table(), {"activation": "tanh", "init": "xavier"}, end_loss=0.2)
    result = compare(result_set(tmp_path / "a"), result_set(tmp_path / "b", training=flipped))
    html = render_html(result, tmp_path / "compare.html").read_text()
    for section in ("verdicts", "tables", "seeds", "provenance"):
        assert f'<section id="{section}">' in html
    assert "exercise-2" in html and "status-changed" in html and "http" not in html.split("<body>")[1]


def test_format_values_and_unpaired_difference():
    assert format_values([12, 10, 11, 3, 0, 1]) == "0–1, 3, 10–12"
    assert format_values(["tanh", "relu"]) == "relu, tanh"
    ci = diff_of_means([1.0, 1.1, 0.9, 1.0], [2.0, 2.1, 1.9, 2.05], paired=False)
    # 4 + 4 seeds: all 70 relabellings are enumerated; only the observed one and its mirror are as extreme
    assert ci.diff == pytest.approx(1.0125) and ci.p == pytest.approx(2 / 70)
    assert ci.low == pytest.approx(0.8) and ci.high == pytest.approx(1.2) and ci.low < ci.diff < ci.high
    same = diff_of_means([1.0, 1.0], [1.0, 1.0], paired=False)
    assert same.diff == 0 and same.note


def test_json_has_every_cell_and_calls_only_what_survives_the_fdr_control(tmp_path, capsys):
    # B: Xavier under Tanh ends at 0.2 in every seed, a real difference; everything else is seed noise
    a = result_set(tmp_path / "a", seeds=range(10))
    b = result_set(tmp_path / "b", seeds=range(10, 20), training=partly_flipped(range(10, 20), 10))
    out = tmp_path / "out" / "compare.json"
    assert main(["compare", str(a), str(b), "--json", str(out)]) == 1  # exercise 2's verdict flips
    assert "per-cell results are at" in capsys.readouterr().out
    data = json.loads(out.read_text())  # standard JSON: NaN and inf are null
    assert data["version"] == 1 and not data["same_seeds"] and data["exit_status"] == 1
    assert set(data["methods"]) == set(stats.METHODS)
    result = compare(a, b)
    for name, frame in result.seeds.cells.items():
        metric = data["metrics"][name]
        assert len(metric["cells"]) == len(frame) and metric["counts"] == result.seeds.counts(name)
        for record, (_, row) in zip(metric["cells"], frame.iterrows(), strict=True):
            assert {"mean_a", "mean_b", "diff", "ci_low", "ci_high", "p", "q", "differs"} <= set(record)
            assert record["differs"] == bool(row["differs"])
            assert (record["p"] is None) == bool(np.isnan(row["p"])) and record["p"] == pytest.approx(
                None if np.isnan(row["p"]) else row["p"]
            )
            assert record["differs"] == (record["q"] is not None and record["q"] < 0.05)
    end_loss = pd.DataFrame(data["metrics"]["training.end_loss"]["cells"])
    moved = (end_loss["activation"] == "tanh") & (end_loss["init"] == "xavier")
    assert end_loss.loc[moved, "differs"].all()
    assert (end_loss.loc[moved, "ci_low"] > 0).all() | (end_loss.loc[moved, "ci_high"] < 0).all()
    # the terminal says how many are called after the FDR control, beside the count expected by chance
    text = terminal_summary(result)
    assert (
        f"{int(moved.sum()) + int(end_loss.loc[~moved, 'differs'].sum())} called different with the false "
        "discovery rate held at 5%"
        in text
        and "expected by chance" in text
    )
    assert "training.end_loss differs at depth" in text


def test_seed_noise_alone_is_called_different_in_no_cell(tmp_path):
    # two sets of seeds drawn from one distribution per cell: every difference is chance
    rng = np.random.default_rng(11)
    tables = []
    for seeds in (range(10), range(10, 20)):
        training = syn.training_table(seeds=seeds)
        training["end_loss"] = rng.lognormal(np.log(0.05), 0.8, len(training))
        tables.append(training)
    a = result_set(tmp_path / "a", seeds=range(10), training=tables[0])
    b = result_set(tmp_path / "b", seeds=range(10, 20), training=tables[1])
    end_loss = compare(a, b).seeds.cells["training.end_loss"]
    # about 5 % of the 96 cells have p <= 0.05 by chance (here 5, the smallest 0.0004); the FDR
    # control calls at most that smallest one (any call at all happens in at most 5 % of such worlds)
    assert 1 <= (end_loss["p"] <= 0.05).sum() <= 0.1 * len(end_loss)
    assert end_loss["differs"].sum() <= 1 and (end_loss["ci_excludes_0"] == (end_loss["p"] <= 0.05)).all()
