"""The ASTROMER models shipped inside the package.

``data/macho`` and ``data/atlas`` hold the published MACHO and ATLAS weights
converted once, by ``scripts/convert_published_weights.py``, to the library's
own format (``config.json`` + ``model.safetensors``), so that ``"macho"`` and
``"atlas"`` load offline, without a download, a cache or h5py.
``data/catalina`` is a model pre-trained by this project on real Catalina
light curves (``scripts/pretrain_catalina.py``). ``data/README.md`` records
where each comes from, its licence and how to cite it.
"""

from pathlib import Path

from ._download import PUBLISHED_WEIGHTS

SHIPPED_DIR = Path(__file__).resolve().parent / "data"
#: Models trained by this project and shipped (no published zip behind them).
PROJECT_MODELS = ("catalina",)
#: Every name ``pretrained=`` accepts for a shipped model.
SHIPPED_MODELS = (*sorted(PUBLISHED_WEIGHTS), *PROJECT_MODELS)


def shipped_model_dir(source):
    """The folder of the shipped copy when ``source`` names a published model, else None.

    Parameters
    ----------
    source : str or path-like
        ``"macho"``, ``"atlas"`` or ``"catalina"`` (any case); anything
        else gives None.

    Returns
    -------
    Path or None
    """
    if isinstance(source, str) and source.lower() in SHIPPED_MODELS:
        return SHIPPED_DIR / source.lower()
    return None
