"""The published ASTROMER models shipped inside the package.

``data/macho`` and ``data/atlas`` hold the published MACHO and ATLAS weights
converted once, by ``scripts/convert_published_weights.py``, to the library's
own format (``config.json`` + ``model.safetensors``), so that ``"macho"`` and
``"atlas"`` load offline, without a download, a cache or h5py. ``data/README.md``
records where they come from, their licence and how to cite them.
"""

from pathlib import Path

from ._download import PUBLISHED_WEIGHTS

SHIPPED_DIR = Path(__file__).resolve().parent / "data"


def shipped_model_dir(source):
    """The folder of the shipped copy when ``source`` names a published model, else None.

    Parameters
    ----------
    source : str or path-like
        ``"macho"`` or ``"atlas"`` (any case); anything else gives None.

    Returns
    -------
    Path or None
    """
    if isinstance(source, str) and source.lower() in PUBLISHED_WEIGHTS:
        return SHIPPED_DIR / source.lower()
    return None
