"""Dropout whose CPU masks come from numpy's PCG64 generator (seeded from torch's)."""

import numpy as np
import torch
from torch import nn

# Masks are drawn as 16-bit integers: keep when u >= p * 2**16, so the drop
# probability is p to within 2**-16.
_LEVELS = 1 << 16


class Dropout(nn.Dropout):
    """:class:`torch.nn.Dropout` with faster mask generation on the CPU.

    On the CPU, PyTorch draws dropout masks one element at a time from its
    Mersenne-Twister generator on a single thread: about 15 % of a training
    step of the paper-size encoder. numpy's PCG64 fills the same mask from
    random bytes several times faster. Its seed is drawn from torch's global
    generator, so ``torch.manual_seed`` (and ``random_state``) still fix every
    mask. On other devices, and in evaluation, this is plain dropout.

    Parameters
    ----------
    p : float, default=0.5
        Probability of an element being zeroed.
    """

    def forward(self, x):
        if not self.training or self.p == 0 or x.device.type != "cpu":
            return super().forward(x)
        if self.p == 1:
            return x * 0.0
        seed = int(torch.randint(0, 2**62, (1,)))
        random_bits = np.frombuffer(np.random.default_rng(seed).bytes(2 * x.numel()),
                                    dtype=np.uint16).reshape(x.shape)
        keep = torch.from_numpy(random_bits >= int(round(self.p * _LEVELS)))
        return x * keep.to(x.dtype).mul_(1.0 / (1.0 - self.p))
