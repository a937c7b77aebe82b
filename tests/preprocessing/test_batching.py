import numpy as np
import pytest

from sklearn_astromer.preprocessing import length_sorted_batches


def test_fixed_size_batches_group_similar_lengths():
    batches = length_sorted_batches(np.array([5, 200, 7, 199, 6]), 2)
    assert [b.tolist() for b in batches] == [[1, 3], [2, 4], [0]]


def test_token_budget_puts_more_short_windows_in_a_batch():
    lengths = np.array([200] * 5 + [50] * 10)
    batches = length_sorted_batches(lengths, max_tokens=400)
    assert [len(b) for b in batches] == [2, 2, 2, 8, 1]
    assert sorted(np.concatenate(batches).tolist()) == list(range(15))


def test_token_budget_respects_batch_size_and_fixed_padding():
    lengths = np.array([10] * 9)
    assert [len(b) for b in length_sorted_batches(lengths, 4, max_tokens=1000)] == [4, 4, 1]
    assert [len(b) for b in length_sorted_batches(lengths, max_tokens=400, pad_to=200)] == [2] * 4 + [1]


def test_window_longer_than_budget_gets_its_own_batch():
    batches = length_sorted_batches(np.array([300, 300]), max_tokens=100)
    assert [b.tolist() for b in batches] == [[0], [1]]


def test_needs_a_batch_size_or_a_budget():
    with pytest.raises(ValueError, match="batch_size, max_tokens"):
        length_sorted_batches(np.array([3]))


def test_content_tie_break_makes_batches_independent_of_input_order():
    lengths = np.array([5, 3, 5, 5, 3])
    content = np.array([0.4, 0.1, 0.2, 0.9, 0.3])
    batches = length_sorted_batches(lengths, batch_size=2, tie_break=content)
    permutation = np.array([3, 0, 4, 2, 1])
    permuted = length_sorted_batches(lengths[permutation], batch_size=2,
                                     tie_break=content[permutation])
    assert [list(batch) for batch in batches] == [[2, 0], [3, 1], [4]]
    assert [list(permutation[batch]) for batch in permuted] == [[2, 0], [3, 1], [4]]
