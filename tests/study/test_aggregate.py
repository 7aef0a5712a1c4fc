import pandas as pd
import pytest

from initlab.study.aggregate import aggregate
from initlab.study.tables import TABLE, write_csv


def _row(seed, init, end_loss):
    return {
        "seed": seed,
        "depth": 2,
        "width": 8,
        "activation": "relu",
        "optimizer": "adam",
        "lr": 0.01,
        "steps": 5,
        "init": init,
        "start_loss": 0.7,
        "end_loss": end_loss,
        "val_acc": float("nan"),
        "diverged": end_loss != end_loss,
        "diverged_step": 3 if end_loss != end_loss else None,
        "probe_out_mean": 0.0,
        "probe_out_std": 1.0,
        "probe_all_finite": True,
    }


def test_concatenates_sorts_and_is_independent_of_job_order(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(a, TABLE["training"].columns, [_row(1, "he", 0.1), _row(1, "tiny", float("nan"))])
    write_csv(b, TABLE["training"].columns, [_row(0, "zeros", 0.69), _row(0, "he", 0.2)])
    aggregate("training", [a, b], tmp_path / "ab.csv")
    aggregate("training", [b, a], tmp_path / "ba.csv")
    assert (tmp_path / "ab.csv").read_bytes() == (tmp_path / "ba.csv").read_bytes()
    table = pd.read_csv(tmp_path / "ab.csv")
    assert list(zip(table.seed, table.init, strict=True)) == [(0, "he"), (0, "zeros"), (1, "he"), (1, "tiny")]
    assert table.diverged.dtype == bool and table.diverged.tolist() == [False, False, False, True]
    assert table.loc[3, "diverged_step"] == 3 and pd.isna(table.loc[0, "diverged_step"])


def test_rejects_wrong_columns_and_duplicates(tmp_path):
    a = tmp_path / "a.csv"
    write_csv(a, TABLE["training"].columns, [_row(0, "he", 0.1)])
    with pytest.raises(ValueError, match="appears twice"):
        aggregate("training", [a, a], tmp_path / "out.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("seed,init\n0,he\n")
    with pytest.raises(ValueError, match="not the training table's"):
        aggregate("training", [bad], tmp_path / "out.csv")
    with pytest.raises(ValueError, match="unknown table 'nope'"):
        aggregate("nope", [a], tmp_path / "out.csv")


def test_float_format_round_trips_float32(tmp_path):
    import numpy as np

    value = float(np.float32(0.0452991538))
    a = tmp_path / "a.csv"
    write_csv(a, TABLE["training"].columns, [_row(0, "he", value)])
    aggregate("training", [a], tmp_path / "out.csv")
    assert np.float32(pd.read_csv(tmp_path / "out.csv").end_loss[0]) == np.float32(value)


def test_timings_keep_full_precision_and_one_row_per_job(tmp_path):
    from initlab.study.tables import TABLE

    row = {
        "job": "train/relu/adam/2/0-9",
        "import_seconds": 1.23456789012,
        "work_seconds": 2.0,
        "work_wall_seconds": 2.5,
        "started_at": "1795949108.944",
        "finished_at": "1795949132.604",
    }
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(a, TABLE["timings"].columns, [row])
    write_csv(b, TABLE["timings"].columns, [row | {"job": "train/relu/adam/2/10"}])
    aggregate("timings", [a, b], tmp_path / "t.csv")
    assert "1795949108.944" in (tmp_path / "t.csv").read_text()  # not rounded to 1.79594911e+09
    with pytest.raises(ValueError, match="appears twice"):
        aggregate("timings", [a, a], tmp_path / "t.csv")
