import numpy as np
import torch

from sklearn_astromer._encoder_inference import to_device


def test_cpu_tensors_own_their_memory():
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    tensor = to_device(array, "cpu")
    array[0, 0] = 99
    assert tensor[0, 0] == 0


def test_gpu_transfers_go_through_pinned_memory(monkeypatch):
    """The CUDA path, exercised on the CPU with the two device calls recorded."""
    calls = []

    def pin_memory(self):
        calls.append("pin_memory")
        return self

    def to(self, device, non_blocking=False):
        calls.append(("to", device, non_blocking))
        return self

    monkeypatch.setattr(torch.Tensor, "pin_memory", pin_memory)
    monkeypatch.setattr(torch.Tensor, "to", to)
    array = np.ones((2, 3), dtype=np.float32)[:, ::2]  # not contiguous
    tensor = to_device(array, "cuda:0")
    assert calls == ["pin_memory", ("to", "cuda:0", True)]
    np.testing.assert_array_equal(tensor.numpy(), array)
