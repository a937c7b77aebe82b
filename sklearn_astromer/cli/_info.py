"""``sklearn-astromer info``: what a saved or published model is."""

from pathlib import Path

from ..pretrained import (
    fetch_published_weights,
    is_saved_model_dir,
    load_pretrained,
    saved_model_dir,
)
from ..pretrained import CONFIG_NAME, PUBLISHED_WEIGHTS, WEIGHTS_NAME
from ._common import check_model_source

ARCHITECTURE = ("d_model", "n_layers", "n_heads", "d_ff", "max_obs", "variant", "pe_base",
                "time_encoding", "period_input", "magnitude_scaling")


def add_parser(commands):
    """Register ``info`` on the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "info", help="describe a saved or published model",
        description="Print a model's format, architecture, saved settings and parameter count.")
    parser.add_argument("model", help="a save_pretrained directory, 'macho', 'atlas', or a "
                                      "published zip or folder")
    parser.set_defaults(run=run)
    return parser


def run(args):
    """Print the description of ``args.model``; return the exit code."""
    check_model_source(args.model, option=None)
    print(describe(args.model))
    return 0


def model_format(source):
    """A one-line description of how ``source`` stores its weights."""
    directory = saved_model_dir(source)
    if directory is not None:
        size = (directory / WEIGHTS_NAME).stat().st_size
        shipped = ""
        if not is_saved_model_dir(source):
            shipped = (f", shipped copy of the published {PUBLISHED_WEIGHTS[source.lower()].filename}"
                       if source.lower() in PUBLISHED_WEIGHTS else ", shipped with the package")
        return f"sklearn-astromer ({CONFIG_NAME} + {WEIGHTS_NAME}, {_size(size)}){shipped}"
    path = Path(source)
    packed = ""
    if path.suffix == ".zip" or str(source).lower() in PUBLISHED_WEIGHTS:
        packed = "zip of "
        path = fetch_published_weights(source)  # cached: load_pretrained unpacked it already
    if path.is_dir() and any(path.glob("**/*.h5")):
        return f"published ASTROMER weights ({packed}Keras HDF5)"
    if path.is_dir() and any(path.glob("**/*.index")):
        return f"published ASTROMER weights ({packed}TensorFlow checkpoint)"
    return "published ASTROMER weights"


def _size(n_bytes):
    for unit in ("bytes", "kB", "MB"):
        if n_bytes < 1000 or unit == "MB":
            return f"{n_bytes:.0f} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000


def describe(source):
    """Format, architecture, other settings and parameter counts of a model, as text."""
    config, state_dict = load_pretrained(source)
    config.pop("source", None)
    counts = {}
    for name, tensor in state_dict.items():
        part = name.split(".", 1)[0]
        counts[part] = counts.get(part, 0) + tensor.numel()
    lines = [f"model:      {source}", f"format:     {model_format(source)}"]
    lines.append("architecture:")
    lines += [f"  {key:<20}{config[key]}" for key in ARCHITECTURE if key in config]
    others = sorted(key for key in config if key not in ARCHITECTURE)
    if others:
        lines.append("settings:")
        lines += [f"  {key:<20}{config[key]}" for key in others]
    lines.append(f"parameters: {sum(counts.values()):,}")
    lines += [f"  {part:<12}{count:,}" for part, count in sorted(counts.items())]
    return "\n".join(lines)
