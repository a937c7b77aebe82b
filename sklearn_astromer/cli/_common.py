"""Options and checks shared by the commands."""

import argparse
from pathlib import Path


def add_runtime_arguments(parser):
    """``--batch-size``, ``--device`` and ``--precision``, shared by ``embed`` and ``pretrain``."""
    parser.add_argument("--batch-size", type=positive_int,
                        help="windows per batch: of inference in embed (default: sized "
                             "by the device), of training in pretrain (default: the model's; "
                             "64 for new models)")
    parser.add_argument("--device", default="auto",
                        help="'auto' (a GPU when visible), 'cpu', 'cuda', 'cuda:1', ...")
    parser.add_argument("--precision", choices=["float32", "bfloat16", "float16"],
                        default="float32",
                        help="arithmetic (default: %(default)s); 'bfloat16' is mixed precision, "
                             "in training too (float32 weights and loss): faster on GPUs and "
                             "on CPUs with AVX512-BF16 or AMX, embeddings within ~1e-2")


def check_model_source(source, option="--model"):
    """Fail with a plain message when ``source`` is neither a published name nor a path.

    ``option`` is the command-line option that gave ``source`` (None for a
    positional argument), named in the message.
    """
    from ..pretrained import SHIPPED_MODELS

    if str(source).lower() not in SHIPPED_MODELS and not Path(source).exists():
        given = f"{option} {source}" if option else str(source)
        names = ", ".join(repr(name) for name in SHIPPED_MODELS)
        raise FileNotFoundError(f"{given}: no such file or directory (expected {names}, a "
                                "published zip or folder, or a directory written by "
                                "save_pretrained).")


def check_device(device):
    """Fail early, with a clear message, on a device that is unknown or not visible."""
    import torch

    if device == "auto":
        return
    usage = "use 'auto', 'cpu', 'cuda' or 'cuda:N'"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"--device {device}: not a device; {usage}.") from None
    if parsed.type not in ("cpu", "cuda"):
        raise ValueError(f"--device {device}: not supported; {usage}.")
    if parsed.type == "cuda":
        n_gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n_gpus == 0:
            raise ValueError(f"--device {device}: no CUDA GPU is visible to PyTorch.")
        if parsed.index is not None and parsed.index >= n_gpus:
            raise ValueError(f"--device {device}: PyTorch sees {n_gpus} GPU(s) "
                             f"(cuda:0 to cuda:{n_gpus - 1}).")


def positive_int(text):
    """argparse type: an int of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def excerpt(text, limit=60):
    """``text`` cut to ``limit`` characters, for messages quoting a file's content."""
    # A line of a binary or corrupt file can be very long; its start says enough.
    return text if len(text) <= limit else text[:limit] + "..."
