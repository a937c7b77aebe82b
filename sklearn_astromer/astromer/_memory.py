"""Whether an ASTROMER can run on the light curves given, checked before any allocation.

An architecture inside the documented limits can still need more memory than
the machine has: attention holds ``n_heads x L x L`` scores per window of
``L`` observations, so ``max_obs=100_000`` with the paper variant (windows
padded to ``max_obs``) needs hundreds of GiB for one window. Without this
check such a run is killed by the operating system with no message.
"""

import math
import os

import torch

FLOAT_BYTES = 4


def window_length(config, longest_curve):
    """Observations per window: ``max_obs`` for the paper variant (padded), else the longest
    light curve's (at most ``max_obs``)."""
    if config["variant"] == "paper":
        return config["max_obs"]
    return min(config["max_obs"], int(longest_curve))


def required_bytes(config, n_parameters, length, n_windows, training):
    """A lower bound of the memory a batch of ``n_windows`` windows of ``length`` needs.

    The float32 weights (four times over in training: weights, gradients and
    Adam's two moments), and the activations of one block (every block's, kept
    for the backward pass, in training): attention scores and probabilities,
    and the per-observation vectors of the projections and the feed-forward
    layer.
    """
    d_model, d_ff, heads = config["d_model"], config["d_ff"], config["n_heads"]
    per_window = 2 * heads * length * length + length * (6 * d_model + d_ff)
    blocks = config["n_layers"] if training else 1
    weights = n_parameters * (4 if training else 1)
    return FLOAT_BYTES * (weights + n_windows * per_window * blocks)


def available_bytes(device):
    """Memory of ``device``: a GPU's own, else the machine's physical memory (None if unknown)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(config, shapes, longest_curve, device, *, n_windows=1, training=False):
    """Refuse, naming the memory needed, a run that cannot fit in ``device``'s memory.

    Parameters
    ----------
    config : dict
        The architecture (``d_model``, ``n_layers``, ``n_heads``, ``d_ff``,
        ``max_obs``, ``variant``).
    shapes : dict of str to tuple
        Shapes of the model's tensors (built on the meta device).
    longest_curve : int
        Observations of the longest light curve given.
    device : str or torch.device
    n_windows : int, default=1
        Windows per batch (the training batch size in training; inference
        batches hold at least one window).
    training : bool, default=False

    Raises
    ------
    ValueError
        Saying what would be needed, what the device has, and what to lower.
    """
    length = window_length(config, longest_curve)
    n_parameters = sum(math.prod(shape) for shape in shapes.values())
    needed = required_bytes(config, n_parameters, length, n_windows, training)
    available = available_bytes(device)
    if available is None or needed <= available:
        return
    what = f"training on batches of {n_windows} windows" if training else "one window"
    raise ValueError(
        f"This model cannot run here: {what} of {length:,} observations with d_model="
        f"{config['d_model']}, n_layers={config['n_layers']}, n_heads={config['n_heads']}, "
        f"d_ff={config['d_ff']} ({n_parameters:,} weights) needs at least "
        f"{needed / 2**30:,.1f} GiB, and {device} has {available / 2**30:,.1f} GiB. Lower "
        "max_obs (attention grows with its square), the widths or the batch size.")
