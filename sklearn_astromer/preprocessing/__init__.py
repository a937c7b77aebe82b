"""Windows, zero-meaning, padding and masking of light curves (vectorised numpy)."""

from .batching import length_sorted_batches
from .masking import MaskedWindows, mask_windows
from .windows import (
    Windows,
    consecutive_windows,
    gather_windows,
    random_windows,
    window_descriptors,
)

__all__ = [
    "MaskedWindows",
    "Windows",
    "consecutive_windows",
    "gather_windows",
    "length_sorted_batches",
    "mask_windows",
    "random_windows",
    "window_descriptors",
]
