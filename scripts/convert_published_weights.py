"""Convert the published ASTROMER weights into the copies shipped in the package.

Reads the two zips published by the ASTROMER project (``astromer-science/weights``,
MIT licence) with the package's own readers -- the TensorFlow checkpoint of the
MACHO model and the Keras HDF5 file of the ATLAS model, no TensorFlow needed --
checks each zip against its pinned SHA-256, and writes each model in the
package's own format with ``save_model``, in ``sklearn_astromer/pretrained/data``:

- ``macho/config.json`` + ``macho/model.safetensors``
- ``atlas/config.json`` + ``atlas/model.safetensors``

The tensors are exactly those the readers return (float32, 661,505 parameters
each); the config is what ``load_published`` returns, with ``source`` naming
the upstream file. safetensors writes tensors in sorted order, so reruns give
byte-identical files. Reading the ATLAS file needs h5py (``pip install
sklearn-astromer[h5]``).

Usage::

    python scripts/convert_published_weights.py [--macho PATH] [--atlas PATH] [--output DIR]
"""

import argparse
import os
import tempfile
from pathlib import Path

from sklearn_astromer.pretrained import save_model
from sklearn_astromer.pretrained._download import (
    PUBLISHED_WEIGHTS,
    WEIGHTS_COMMIT,
    WEIGHTS_REPOSITORY,
    sha256_of,
)
from sklearn_astromer.pretrained._published import load_published

ROOT = Path(__file__).resolve().parents[1]
# As the tests find it: ../shared/data beside the project, or $SKLEARN_ASTROMER_SHARED_DATA.
SHARED_DATA = Path(
    os.environ.get("SKLEARN_ASTROMER_SHARED_DATA", ROOT.parent / "shared" / "data")
)
DEFAULT_SOURCE = SHARED_DATA / "astromer_weights"
DEFAULT_OUTPUT = ROOT / "sklearn_astromer" / "pretrained" / "data"


def convert(name, archive, output):
    """Read the published zip ``archive`` of model ``name`` and save it to ``output/name``."""
    weights = PUBLISHED_WEIGHTS[name]
    actual = sha256_of(archive)
    if actual != weights.sha256:
        raise SystemExit(f"{archive} has SHA-256 {actual}, not that of the published "
                         f"{weights.filename} ({weights.sha256}).")
    with tempfile.TemporaryDirectory() as cache:
        config, state_dict = load_published(archive, cache_dir=cache)
    config["source"] = f"{WEIGHTS_REPOSITORY}/blob/{WEIGHTS_COMMIT}/{weights.filename}"
    save_model(output / name, config, state_dict)
    n_parameters = sum(tensor.numel() for tensor in state_dict.values())
    print(f"{archive} (SHA-256 {actual}) -> {output / name}: {n_parameters:,} parameters")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in PUBLISHED_WEIGHTS:
        parser.add_argument(f"--{name}", type=Path, default=DEFAULT_SOURCE / f"{name}.zip",
                            help=f"the published {name}.zip (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    for name in PUBLISHED_WEIGHTS:
        convert(name, getattr(args, name), args.output)


if __name__ == "__main__":
    main()
