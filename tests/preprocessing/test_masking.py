import numpy as np
import pytest

from sklearn_astromer.preprocessing import mask_windows
from sklearn_astromer.preprocessing.masking import mask_counts


def test_counts_for_a_full_window_match_the_paper():
    n_masked, n_same, n_random = mask_counts(np.array([200]))
    assert (n_masked[0], n_same[0], n_random[0]) == (100, 20, 16)


@pytest.mark.parametrize("length", [1, 2, 5, 37, 200])
def test_mask_has_exact_counts_and_never_touches_padding(length):
    rng = np.random.default_rng(length)
    width = 200
    valid = np.zeros((50, width), bool)
    valid[:, :length] = True
    magnitudes = np.where(valid, rng.normal(size=valid.shape), 0).astype(np.float32)
    masked = mask_windows(magnitudes, valid, rng)
    n_masked, n_same, n_random = mask_counts(np.array([length]))
    n_hidden = n_masked - n_same - n_random
    assert (masked.mask_out.sum(1) == n_masked).all()
    assert ((masked.mask_in & valid).sum(1) == n_hidden).all()
    assert not (masked.mask_out & ~valid).any()
    assert masked.mask_in[~valid].all()
    # Hidden positions keep the true value (v0); changed values are "random" positions.
    changed = masked.input_magnitudes != magnitudes
    assert not (changed & ~masked.mask_out).any()
    assert (changed.sum(1) <= n_random).all()


def test_random_replacements_come_from_the_same_window():
    rng = np.random.default_rng(0)
    valid = np.ones((20, 200), bool)
    magnitudes = (np.arange(20)[:, None] * 1000 + np.arange(200)).astype(np.float32)
    masked = mask_windows(magnitudes, valid, rng)
    assert (masked.input_magnitudes // 1000 == np.arange(20)[:, None]).all()


def test_positions_are_uniform_over_the_window():
    rng = np.random.default_rng(0)
    valid = np.ones((4000, 10), bool)
    masked = mask_windows(np.zeros((4000, 10), np.float32), valid, rng)
    frequency = masked.mask_out.mean(0)
    np.testing.assert_allclose(frequency, 0.5, atol=0.04)
