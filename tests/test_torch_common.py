import pytest
import torch
from threadpoolctl import threadpool_info

from sklearn_astromer._torch_common import thread_limit


def _blas_threads():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_thread_limit_sets_and_restores_torch_and_blas_threads():
    before, blas_before = torch.get_num_threads(), _blas_threads()
    with thread_limit(1):
        assert torch.get_num_threads() == 1
        assert _blas_threads() <= {1}
    assert torch.get_num_threads() == before
    assert _blas_threads() == blas_before


def test_thread_limit_restores_after_an_error_and_none_changes_nothing():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), thread_limit(1):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with thread_limit(None):
        assert torch.get_num_threads() == before
