"""``sklearn-astromer export``: a saved or published model as ONNX, for ONNX Runtime."""

import sys
from pathlib import Path

import numpy as np

from .._atomic_files import written_atomically
from .._curve_pooling import POOLINGS
from ._common import check_model_source


def add_parser(commands):
    """Register ``export`` on the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "export", help="write a model as ONNX (for ONNX Runtime, without PyTorch)",
        description="Write a model's encoder and pooling as an ONNX file that "
                    "sklearn_astromer.onnx_runtime.OnnxEmbedder (numpy + ONNX Runtime) runs "
                    "to give the model's embeddings. Needs the onnx extra.")
    parser.add_argument("model", help="'macho' or 'atlas' (published weights), a published zip, "
                                      "or a directory written by save_pretrained")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the .onnx file")
    parser.add_argument("--pooling", choices=POOLINGS,
                        help="how observations are pooled (default: the model's, else mean)")
    parser.add_argument("--check", action="store_true",
                        help="embed simulated light curves with PyTorch and with ONNX Runtime "
                             "and print the largest difference")
    parser.set_defaults(run=run)
    return parser


def run(args):
    """Export ``args.model`` to ``args.output``; return the exit code."""
    from ..astromer import AstromerEmbedder

    check_model_source(args.model, option=None)
    if args.output.suffix != ".onnx":
        raise ValueError(f"{args.output}: the output must be a .onnx file.")
    params = {"device": "cpu"}
    if args.pooling:
        params["pooling"] = args.pooling
    embedder = AstromerEmbedder.from_pretrained(args.model, **params)
    with written_atomically(args.output) as temporary:
        embedder.to_onnx(temporary)
    size = args.output.stat().st_size / 1e6
    print(f"wrote {args.output} ({size:.1f} MB; pooling {embedder.pooling}, "
          f"{len(embedder.get_feature_names_out())} features)", file=sys.stderr)
    if args.check:
        print(f"largest difference from PyTorch on simulated light curves: "
              f"{largest_difference(embedder, args.output):.2e}", file=sys.stderr)
    return 0


def largest_difference(embedder, path):
    """Largest absolute difference between ``embedder`` and the ONNX model at ``path``."""
    from ..datasets import make_light_curves
    from ..onnx_runtime import OnnxEmbedder

    bands = None
    if hasattr(embedder, "bands_"):
        if len(embedder.bands_) > 3:
            raise ValueError("--check simulates ZTF bands (codes 0-2) only.")
        bands = ("g", "r", "i")[:len(embedder.bands_)]
    X, _ = make_light_curves(4, classes=["RRab", "EA", "Mira"], survey="ztf", bands=bands,
                             random_state=0)
    if bands is not None:
        X = [np.column_stack([c[:, :3], embedder.bands_[c[:, 3].astype(int)]]) for c in X]
    expected = embedder.transform(X)
    return float(np.abs(OnnxEmbedder(path).fit().transform(X) - expected).max())
