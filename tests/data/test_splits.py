from collections import Counter

from bandmate.data.splits import split_of


def test_split_is_stable_under_adding_songs():
    first = {f"song{i}": split_of(f"song{i}") for i in range(500)}
    more = {f"song{i}": split_of(f"song{i}") for i in range(2000)}
    assert all(more[song] == split for song, split in first.items())


def test_split_fractions_are_roughly_90_5_5():
    counts = Counter(split_of(f"track-{i}") for i in range(20000))
    assert abs(counts["train"] / 20000 - 0.90) < 0.01
    assert abs(counts["valid"] / 20000 - 0.05) < 0.01
    assert abs(counts["test"] / 20000 - 0.05) < 0.01


def test_split_does_not_depend_on_order_or_salt_free():
    assert split_of("x", salt="a") in ("train", "valid", "test")
    ids = [f"s{i}" for i in range(300)]
    assert [split_of(i) for i in ids] == [split_of(i) for i in reversed(ids)][::-1]
    assert any(split_of(i, salt="a") != split_of(i, salt="b") for i in ids)
