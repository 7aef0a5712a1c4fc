import subprocess
import sys

import pytest

from initlab.engine.lesson import lab1_text, lab2_text, parse_table, reproduction_rows


@pytest.fixture(scope="module")
def lab2(moons):
    return lab2_text(moons)


def test_lab1_prints_the_reference_byte_for_byte(repo):
    assert lab1_text() == (repo / "tests/data/lab1_output_torch2.13.0_cpu.txt").read_text()


def test_lab2_prints_the_reference_byte_for_byte(repo, lab2):
    assert lab2 == (repo / "tests/data/lab2_output_torch2.13.0_cpu.txt").read_text()


def test_shared_seed_copy_if_present(repo):
    """The reference files were copied from ../shared/seed; if that folder is here, they must agree."""
    seed = repo.parent / "shared" / "seed"
    if not seed.is_dir():
        pytest.skip("no ../shared/seed beside this checkout")
    for name in ("lab1_output_torch2.13.0_cpu.txt", "lab2_output_torch2.13.0_cpu.txt"):
        assert (seed / name).read_text() == (repo / "tests/data" / name).read_text()


@pytest.mark.parametrize("lab", ["lab1", "lab2"])
def test_cli_prints_the_reference(repo, lab):
    out = subprocess.run([sys.executable, "-m", "initlab", lab], capture_output=True, text=True, check=True)
    assert out.stdout == (repo / f"tests/data/{lab}_output_torch2.13.0_cpu.txt").read_text()


def test_reproduction_flags_exactly_the_xavier_row_on_this_stack(lab2):
    rows = reproduction_rows("lab2", lab2)
    assert len(rows) == 6 * 3
    mismatches = {(r["row"], r["metric"]) for r in rows if not r["matches"]}
    assert mismatches == {("xavier", "end_loss"), ("xavier", "val_acc")}


def test_reproduction_of_lab1_matches_everywhere():
    assert all(r["matches"] for r in reproduction_rows("lab1", lab1_text()))


def test_reproduction_detects_a_changed_number():
    text = lab1_text().replace("last_std=0.6937", "last_std=0.6938")
    bad = [r for r in reproduction_rows("lab1", text) if not r["matches"]]
    assert [(r["row"], r["metric"], r["lesson_value"], r["measured_value"]) for r in bad] == [
        ("He + ReLU", "last_std", "0.6937", "0.6938")
    ]


def test_parse_table_rejects_garbage():
    with pytest.raises(ValueError, match="cannot parse"):
        parse_table("lab1", "header\nthis line has no metrics\n")
