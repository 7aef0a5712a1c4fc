"""read_frame's vectorised check agrees with read_table's line-by-line one: same files pass, same
one-line error for every damaged file."""

from __future__ import annotations

import pandas as pd
import pytest

from initlab.study import frames
from initlab.study.completeness import IncompleteTableError, read_table
from tests.study.test_completeness import _lines, _write_jobs


def _damaged(tmp_path, edit):
    path = _write_jobs(tmp_path, "training")[0]
    lines = _lines(path)
    path.write_text(edit(lines))
    return path


def _replace_field(line_index, column, value):
    def edit(lines):
        fields = lines[line_index].rstrip("\n").split(",")
        fields[column] = value
        return "".join(lines[:line_index] + [",".join(fields) + "\n"] + lines[line_index + 1 :])

    return edit


DAMAGES = {
    "garbage line": lambda lines: "".join(lines[:2] + ["garbage\n"] + lines[2:]),
    "long row": lambda lines: "".join(lines[:2] + [lines[2].rstrip("\n") + ",1\n"] + lines[3:]),
    "not a number": _replace_field(2, 9, "0.x"),
    "seed not a number": _replace_field(1, 0, "seven"),
    "bad flag": _replace_field(2, 11, "maybe"),
    "empty key": _replace_field(1, 7, ""),
    "no final newline": lambda lines: "".join(lines).rstrip("\n"),
    "blank line": lambda lines: "".join(lines[:2] + ["\n"] + lines[2:]),
    "renamed column": lambda lines: lines[0].replace("end_loss", "endloss") + "".join(lines[1:]),
    "NA for a number": _replace_field(2, 9, "NA"),
    "upper-case flag": _replace_field(2, 11, "TRUE"),
    "unknown flag spelt nan": _replace_field(2, 11, "nan"),
    "form feed in a name": _replace_field(2, 3, "relu\x0cgelu"),
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
def test_a_damaged_file_gives_read_tables_error(tmp_path, damage):
    path = _damaged(tmp_path, DAMAGES[damage])
    with pytest.raises(IncompleteTableError) as exact:
        read_table(path, "training")
    with pytest.raises(IncompleteTableError) as fast:
        frames.read_frame(path, "training")
    assert str(fast.value) == str(exact.value)


def test_a_good_file_is_read_without_the_line_by_line_walk(tmp_path, monkeypatch):
    path = _damaged(tmp_path, _replace_field(1, 9, "nan"))  # a diverged model's loss is a number
    path.write_text(_replace_field(2, 8, "inf")(_lines(path)))

    def walk(*args):
        raise AssertionError("read_table walked a good file")

    monkeypatch.setattr(frames, "read_table", walk)
    frame = frames.read_frame(path, "training")
    assert len(frame) == len(_lines(path)) - 1 and frame["end_loss"].isna().sum() == 1


def test_a_good_file_the_fast_check_cannot_judge_is_read_as_pandas_reads_it(tmp_path):
    path = _damaged(tmp_path, _replace_field(2, 3, '"relu"'))  # quoted, with Windows line ends
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    read_table(path, "training")  # a good file
    frame = frames.read_frame(path, "training")
    pd.testing.assert_frame_equal(frame, pd.read_csv(path))
    assert frame["activation"].iloc[1] == "relu"


def test_the_fast_read_is_pandas_own_read(tmp_path, monkeypatch):
    path = _damaged(tmp_path, _replace_field(1, 9, "-nan"))
    path.write_text(_replace_field(2, 12, "")(_lines(path)))  # no divergence step
    monkeypatch.setattr(frames, "read_table", lambda *args: pytest.fail("read_table walked a good file"))
    pd.testing.assert_frame_equal(frames.read_frame(path, "training"), pd.read_csv(path))
