import numpy as np
import pytest

from bandmate.generate.windows import cut, stitch, window_start_seconds


def test_window_starts_cover_the_input():
    assert window_start_seconds(5.0, 10.0, 2.0) == [0.0]
    starts = window_start_seconds(25.0, 10.0, 2.0)
    assert starts == [0.0, 8.0, 16.0]
    assert starts[-1] + 10.0 >= 25.0
    with pytest.raises(ValueError):
        window_start_seconds(25.0, 10.0, 10.0)


def test_cut_pads_the_tail():
    wav = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(cut(wav, 8, 4), [8, 9, 0, 0])


def test_stitch_cross_fades_the_overlap():
    out = np.zeros((1, 10), dtype=np.float32)
    stitch(out, np.ones((1, 6), dtype=np.float32), 0, 0)
    stitch(out, 3 * np.ones((1, 6), dtype=np.float32), 4, 2)
    np.testing.assert_allclose(out[0], [1, 1, 1, 1, 1, 3, 3, 3, 3, 3])
    stitch(out, 5 * np.ones((1, 6), dtype=np.float32), 6, 3)  # runs past the end: trimmed
    assert out[0, 6] == pytest.approx(3.0) and out[0, 9] == pytest.approx(5.0)
