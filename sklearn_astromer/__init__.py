"""sklearn-astromer: light-curve embeddings (ASTROMER, AstroM3) as scikit-learn transformers.

The estimators are imported on first use, so that the numpy-only parts
(:mod:`sklearn_astromer.onnx_runtime` among them) load without PyTorch.
"""

__version__ = "0.1.0"

__all__ = ["AstromerEmbedder", "LightCurveRepairWarning", "MultimodalCLIPEmbedder", "__version__"]

_LAZY = {
    "AstromerEmbedder": ".astromer",
    "MultimodalCLIPEmbedder": ".multimodal",
    "LightCurveRepairWarning": "._validation",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
