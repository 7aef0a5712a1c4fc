import pytest

from initlab.study.blocks import format_seeds, parse_seeds, seed_blocks


@pytest.mark.parametrize(
    "seeds, name", [([0], "0"), ([0, 1, 2, 5], "0-2_5"), ([3, 7, 40, 41], "3_7_40-41"), ([9, 8, 8], "8-9")]
)
def test_format_and_parse_round_trip(seeds, name):
    assert format_seeds(seeds) == name
    assert parse_seeds(name) == sorted(set(seeds))


def test_blocks_are_by_value_so_adding_a_seed_touches_one_block():
    before = seed_blocks(list(range(10)), 4)
    after = seed_blocks(list(range(11)), 4)
    assert before == ["0-3", "4-7", "8-9"]
    assert after == ["0-3", "4-7", "8-10"]
    assert seed_blocks(list(range(10)) + [25], 4) == before + ["25"]


@pytest.mark.parametrize("bad", ["", "a", "1-", "-1", "1__2"])
def test_parse_rejects_bad_names(bad):
    with pytest.raises(ValueError, match="bad seed list"):
        parse_seeds(bad)


def test_block_size_must_be_positive():
    with pytest.raises(ValueError, match="block_size"):
        seed_blocks([1], 0)
