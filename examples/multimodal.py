"""Multimodal embeddings (AstroM3): light curves, spectra and metadata in one space
=================================================================================

MultimodalCLIPEmbedder trains one encoder per modality with a CLIP loss, so
that a star's light curve, spectrum and catalogue metadata land close
together, without labels (here with AstroM3's photometry tower, at a small
size that trains on a CPU). Two uses are shown on a simulated catalogue:

* classification with few labels from the fused embedding, compared with a
  random forest on the metadata columns alone;
* cross-modal retrieval: for each light curve, is its own star's spectrum
  among the nearest spectra?

The figure maps the fused embeddings in two dimensions, coloured by class.
Run it from a checkout::

    python examples/multimodal.py           # a few minutes on 2 cores
    python examples/multimodal.py --quick   # seconds, tiny settings
"""

import argparse
import os
from importlib.util import find_spec

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from sklearn_astromer import MultimodalCLIPEmbedder
from sklearn_astromer.datasets import METADATA_COLUMNS, make_multimodal


def main(quick=False):
    # The documentation's gallery runs the examples small: docs/conf.py sets this variable.
    quick = quick or os.environ.get("SKLEARN_ASTROMER_DOCS_QUICK") == "1"
    classes = ["RRab", "RRc", "Cep", "EW", "Mira", "ROT"]
    frame, y = make_multimodal(6 if quick else 150, classes=classes,
                               n_obs=(30, 80) if quick else None, random_state=0)
    small = dict(embed_dim=16, d_model=16, n_layers=1, n_heads=2, d_ff=16, max_obs=64,
                 spectrum_channels=(4, 4, 4, 4), metadata_hidden=16, max_epochs=1,
                 batch_size=16, warmup_epochs=0) if quick else dict(
        embed_dim=64, d_model=32, n_layers=2, n_heads=2, d_ff=64,
        spectrum_channels=(16, 16, 16, 16), metadata_hidden=64, max_epochs=60,
        batch_size=128, lr=3e-3, warmup_epochs=5)
    embedder = MultimodalCLIPEmbedder(**small, random_state=0, verbose=int(not quick))
    print(f"CLIP pre-training on {len(frame)} stars ({small['max_epochs']} epoch(s))", flush=True)
    embedder.fit(frame)  # self-supervised: y is not used
    print("embedding; random forests; retrieval", flush=True)
    fused = embedder.transform(frame)
    print(f"modalities: {embedder.modalities_}; fused embedding {fused.shape}")

    train, test = train_test_split(np.arange(len(y)), test_size=0.5, stratify=y, random_state=0)
    metadata = frame[list(METADATA_COLUMNS)].to_numpy()
    for name, features in (("CLIP fused embedding", fused), ("metadata alone", metadata)):
        forest = RandomForestClassifier(n_estimators=200, random_state=0)
        forest.fit(features[train], y[train])
        score = f1_score(y[test], forest.predict(features[test]), average="macro")
        print(f"{name + ' + random forest':<40} macro F1 {score:.3f}")

    modalities = embedder.transform_modalities(frame)
    light_curves, spectra = modalities["light_curve"], modalities["spectrum"]
    similarity = light_curves @ spectra.T  # unit vectors: cosine similarity
    rank = (similarity > np.diag(similarity)[:, None]).sum(axis=1)  # 0: own spectrum first
    print(f"light curve -> own spectrum, top-1 retrieval: {np.mean(rank < 1):.3f} "
          f"(chance {1 / len(y):.3f}), top-10: {np.mean(rank < 10):.3f} "
          f"(chance {min(10 / len(y), 1):.3f})")
    return fused, y


def plot_embeddings(fused, y):
    """Map of the fused embeddings, coloured by class (when matplotlib is installed)."""
    if find_spec("matplotlib") is None:  # the figure is optional: the [plot] extra
        return None
    import matplotlib.pyplot as plt

    from sklearn_astromer.plotting import plot_embedding_map

    figure = plot_embedding_map(fused, y)
    figure.axes[0].set_title("Fused CLIP embeddings (PCA)")
    plt.show()
    return figure


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings (for tests)")
    plot_embeddings(*main(**vars(parser.parse_args())))
