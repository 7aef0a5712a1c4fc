"""Every tampering with a job's CSV is caught where the data enters, each with its own message."""

from __future__ import annotations

import re

import pytest

from initlab.study.aggregate import aggregate
from initlab.study.completeness import IncompleteTableError, check_job_output, read_table
from initlab.study.expected import job_keys, jobs
from initlab.study.tables import TABLE, write_csv

CONFIG = {
    "seeds": [0, 1, 2],
    "seed_block_size": 2,
    "inits": ["he", "zeros"],
    "probe": {"activations": ["relu"], "depths": [1, 3], "width": 4},
    "training": {
        "activations": ["tanh"],
        "depths": [2],
        "width": 4,
        "optimizers": {"adam": 0.01, "sgd": 0.1},
        "steps": 3,
        "curve_stride": 2,
    },
}


def _write_jobs(folder, table, config=CONFIG):
    """One CSV per job of ``table``, each row its key plus made-up values (as a job would write it)."""
    columns, keys = TABLE[table].columns, TABLE[table].keys
    paths = []
    for n, job in enumerate(jobs(table, config)):
        rows = [
            dict(zip(keys, key, strict=True)) | {c: "0.5" for c in columns if c not in keys}
            for key in job_keys(job, table)
        ]
        for row in rows:
            row.update({c: "False" for c in ("diverged", "probe_all_finite") if c in columns})
        path = folder / f"{table}_{n}.csv"
        write_csv(path, columns, rows)
        paths.append(path)
    return paths


def _aggregate(tmp_path, table, paths):
    aggregate(table, paths, tmp_path / "out.csv", config=CONFIG)


def _lines(path):
    return path.read_text().splitlines(keepends=True)


@pytest.mark.parametrize("table", ["signal_probe", "training", "curves"])
def test_untouched_jobs_aggregate(tmp_path, table):
    paths = _write_jobs(tmp_path, table)
    _aggregate(tmp_path, table, paths)
    rows = len(_lines(tmp_path / "out.csv")) - 1
    per_seed = {"signal_probe": 2 * (1 + 3), "training": 2 * 2, "curves": 2 * 2 * 3}[table]
    assert rows == 3 * per_seed  # 3 seeds; curves keep steps 0, 2 and 3


def test_missing_row_names_the_file_the_key_and_the_remedy(tmp_path):
    paths = _write_jobs(tmp_path, "training")
    lines = _lines(paths[1])
    paths[1].write_text("".join(lines[:-1]))
    with pytest.raises(IncompleteTableError) as err:
        _aggregate(tmp_path, "training", paths)
    message = str(err.value)
    last = lines[-1].strip().split(",")
    assert message == (
        f"{paths[1]}: 1 row(s) of the training table missing: seed={last[0]} depth=2 width=4 activation=tanh "
        f"optimizer={last[4]} lr={last[5]} steps=3 init={last[7]}; "
        f"to redo it, delete {paths[1]} and run snakemake again with `--forcerun aggregate`"
    )


def test_many_missing_rows_show_the_first_few_and_how_many(tmp_path):
    paths = _write_jobs(tmp_path, "curves")
    lines = _lines(paths[0])
    paths[0].write_text("".join(lines[:2]))
    with pytest.raises(IncompleteTableError, match=r"row\(s\) of the curves table missing: .* \(and \d+ more\)"):
        _aggregate(tmp_path, "curves", paths)


def test_duplicated_row(tmp_path):
    paths = _write_jobs(tmp_path, "signal_probe")
    lines = _lines(paths[0])
    paths[0].write_text("".join(lines + [lines[1]]))
    with pytest.raises(
        IncompleteTableError, match=re.escape(f"{paths[0]}: 1 duplicated row(s): seed=0 activation=relu")
    ):
        _aggregate(tmp_path, "signal_probe", paths)


def test_the_same_job_twice(tmp_path):
    paths = _write_jobs(tmp_path, "signal_probe")
    with pytest.raises(IncompleteTableError, match=re.escape(f"duplicated row(s) (already in {paths[0]})")):
        _aggregate(tmp_path, "signal_probe", paths + [paths[0]])


def test_extra_seed(tmp_path):
    paths = _write_jobs(tmp_path, "training")
    lines = _lines(paths[0])
    paths[0].write_text("".join(lines + ["7" + lines[1][1:]]))
    with pytest.raises(IncompleteTableError, match=re.escape("1 row(s) the config does not ask for: seed=7 depth=2")):
        _aggregate(tmp_path, "training", paths)


def test_truncated_file(tmp_path):
    paths = _write_jobs(tmp_path, "curves")
    text = paths[0].read_text()
    paths[0].write_text(text[:-3])  # cut inside the last row
    with pytest.raises(
        IncompleteTableError, match=re.escape(f"{paths[0]}: the last line has no newline: the file was truncated")
    ):
        _aggregate(tmp_path, "curves", paths)
    paths[0].write_text(text[: text.rindex(",")] + "\n")  # a row cut at a field boundary
    with pytest.raises(IncompleteTableError, match=r"line \d+ has 8 fields, not 9: the file is truncated or damaged"):
        _aggregate(tmp_path, "curves", paths)
    paths[0].write_text("")
    with pytest.raises(IncompleteTableError, match="empty file"):
        _aggregate(tmp_path, "curves", paths)


def test_emptied_value(tmp_path):
    paths = _write_jobs(tmp_path, "training")
    lines = _lines(paths[0])
    fields = lines[2].split(",")
    fields[7] = ""  # init
    paths[0].write_text("".join(lines[:2] + [",".join(fields)] + lines[3:]))
    with pytest.raises(
        IncompleteTableError, match=re.escape(f"{paths[0]}: line 3 has an empty 'init', a value every row needs")
    ):
        _aggregate(tmp_path, "training", paths)


def test_an_empty_statistic_is_allowed(tmp_path):
    """A diverged model's val_acc is legitimately empty (NaN): not a tampering."""
    paths = _write_jobs(tmp_path, "training")
    lines = _lines(paths[0])
    fields = lines[1].split(",")
    fields[10] = ""  # val_acc
    paths[0].write_text("".join(lines[:1] + [",".join(fields)] + lines[2:]))
    _aggregate(tmp_path, "training", paths)


def test_swapped_columns(tmp_path):
    paths = _write_jobs(tmp_path, "training")
    lines = _lines(paths[0])
    header = lines[0].split(",")
    header[1], header[2] = header[2], header[1]
    paths[0].write_text(",".join(header) + "".join(lines[1:]))
    with pytest.raises(IncompleteTableError, match=re.escape(f"{paths[0]}: line 1: columns ['seed', 'width', 'depth'")):
        _aggregate(tmp_path, "training", paths)


@pytest.mark.parametrize(
    "column, value, problem",
    [
        (0, "garbage", "seed is 'garbage', not a number"),
        (9, "0.x", "end_loss is '0.x', not a number"),
        (11, "maybe", "diverged is 'maybe', not True or False"),
    ],
)
def test_a_value_of_the_wrong_kind_names_line_column_and_value(tmp_path, column, value, problem):
    paths = _write_jobs(tmp_path, "training")
    lines = _lines(paths[0])
    fields = lines[2].split(",")
    fields[column] = value
    paths[0].write_text("".join(lines[:2] + [",".join(fields)] + lines[3:]))
    with pytest.raises(IncompleteTableError, match=re.escape(f"{paths[0]}: line 3: {problem}; to redo it")):
        read_table(paths[0], "training")


def test_names_infinities_and_empty_statistics_are_fine(tmp_path):
    paths = _write_jobs(tmp_path, "training")
    lines = _lines(paths[0])
    fields = lines[1].split(",")
    fields[8], fields[9], fields[10] = "inf", "nan", ""  # start_loss, end_loss, val_acc of a diverged model
    paths[0].write_text("".join(lines[:1] + [",".join(fields)] + lines[2:]))
    assert len(read_table(paths[0], "training").keys) == len(lines) - 1


def test_a_missing_job_file(tmp_path):
    paths = _write_jobs(tmp_path, "training")
    with pytest.raises(IncompleteTableError, match="no input file holds their jobs"):
        _aggregate(tmp_path, "training", paths[1:])


def test_job_check_on_a_real_probe_job(tmp_path):
    """What ``initlab probe`` writes is exactly what its job promises (and a lost row is caught)."""
    from initlab.engine.probe import probe_grid

    config = CONFIG | {
        "seeds": [3],
        "inits": ["he", "lsuv"],
        "probe": {"activations": ["tanh"], "depths": [1, 2], "width": 5},
    }
    [job] = jobs("signal_probe", config)
    path = tmp_path / "probe.csv"
    write_csv(path, TABLE["signal_probe"].columns, probe_grid([3], "tanh", ["he", "lsuv"], [1, 2], 5))
    keys = job_keys(job, "signal_probe")
    assert check_job_output(path, "signal_probe", keys) == 6
    path.write_text("".join(_lines(path)[:-1]))
    with pytest.raises(
        IncompleteTableError,
        match="1 row\\(s\\) of the signal_probe table missing: "
        "seed=3 activation=tanh init=lsuv depth=2 width=5 layer=2",
    ):
        check_job_output(path, "signal_probe", keys)


def test_read_table_gives_keys_as_text(tmp_path):
    paths = _write_jobs(tmp_path, "training")
    found = read_table(paths[0], "training")
    assert found.keys[0] == ("0", "2", "4", "tanh", "adam", "0.01", "3", "he")


def test_train_job_checks_its_own_output_before_exiting(tmp_path, monkeypatch, capsys):
    """A train job passes on what it wrote, and fails (exit 2, one line) when a row went missing."""
    from initlab import cli
    from initlab.engine import train

    data = tmp_path / "moons.npz"
    assert cli.main(["dataset", "--out", str(data)]) == 0
    config = CONFIG | {
        "seeds": [0, 1],
        "training": {
            "activations": ["relu"],
            "depths": [1],
            "width": 4,
            "optimizers": {"sgd": 0.1},
            "steps": 3,
            "curve_stride": 2,
        },
    }
    [job] = jobs("training", config)
    args = [
        "job",
        "--job",
        job.to_json(),
        "--data",
        str(data),
        "--out",
        f"training={tmp_path / 't.csv'}",
        "--out",
        f"curves={tmp_path / 'c.csv'}",
    ]
    assert cli.main(args) == 0
    assert len(_lines(tmp_path / "t.csv")) == 1 + 4 and len(_lines(tmp_path / "c.csv")) == 1 + 4 * 3

    real = train.train_cell

    def loses_a_curve_row(*a, **k):
        rows, curves = real(*a, **k)
        return rows, curves[:-1]

    monkeypatch.setattr(train, "train_cell", loses_a_curve_row)
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"initlab job: error: {tmp_path / 'c.csv'}: 1 row(s) of the curves table missing: seed=1 depth=1 width=4 "
        f"activation=relu optimizer=sgd lr=0.1 init=zeros step=3; to redo it, delete {tmp_path / 'c.csv'} and run "
        "snakemake again with `--forcerun aggregate`"
    )
