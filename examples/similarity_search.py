"""Similarity search: the light curves most like a given one, by their embeddings
================================================================================

Embed a catalogue once, index the embeddings with scikit-learn's
NearestNeighbors (cosine distance) and query it with any light curve:
neighbours of a Cepheid should be Cepheids. The share of neighbours that
share the query's class (precision at k) measures how well the embedding
groups similar variables, compared with chance. The figure marks one query
light curve and its nearest neighbours on a map of the embeddings. Run it
from a checkout::

    python examples/similarity_search.py           # about 1 min on 2 cores
    python examples/similarity_search.py --quick   # seconds, tiny settings
"""

import argparse
import os
from importlib.util import find_spec

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.datasets import make_light_curves


def main(quick=False, k=5):
    # The documentation's gallery runs the examples small: docs/conf.py sets this variable.
    quick = quick or os.environ.get("SKLEARN_ASTROMER_DOCS_QUICK") == "1"
    n_per_class, epochs, d_model = (6, 1, 16) if quick else (60, 10, 64)
    classes = ["RRab", "RRc", "Cep", "EA", "EW", "Mira"]
    X, y = make_light_curves(n_per_class, classes=classes, survey="asassn",
                             n_obs=(40, 120) if quick else None, random_state=0)

    print(f"training ASTROMER on {len(X)} light curves ({epochs} epoch(s))", flush=True)
    embedder = AstromerEmbedder(d_model=d_model, n_heads=4, d_ff=2 * d_model,
                                max_epochs=epochs, batch_size=64, random_state=0,
                                verbose=int(not quick)).fit(X)
    print("embedding the catalogue and indexing it", flush=True)
    # Mean-pooled embeddings share a large common component: standardising the
    # features first makes cosine distances tell classes apart.
    catalogue = StandardScaler().fit_transform(embedder.transform(X))
    index = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(catalogue)

    # Query with the first light curve of each class; drop the query itself.
    queries = [int(np.flatnonzero(y == name)[0]) for name in classes]
    distances, neighbours = index.kneighbors(catalogue[queries])
    for query, row, dist in zip(queries, neighbours[:, 1:], distances[:, 1:]):
        found = ", ".join(f"{y[i]} ({d:.3f})" for i, d in zip(row, dist))
        print(f"{y[query]:>5} -> {found}")

    _, all_neighbours = index.kneighbors(catalogue)
    precision = (y[all_neighbours[:, 1:]] == y[:, None]).mean()
    print(f"precision at {k} over all {len(X)} queries: {precision:.3f} "
          f"(chance {(n_per_class - 1) / (len(X) - 1):.3f})")
    return catalogue, y, queries[0], neighbours[0, 1:]


def plot_neighbours(catalogue, y, query, neighbours):
    """The embedding map, a query and its neighbours marked (when matplotlib is installed)."""
    if find_spec("matplotlib") is None:  # the figure is optional: the [plot] extra
        return None
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    from sklearn_astromer.plotting import plot_embedding_map

    figure = plot_embedding_map(catalogue, y)
    # The map's own projection (PCA, seed 0), to place the query and its neighbours on it.
    points = PCA(n_components=2, random_state=0).fit_transform(catalogue)
    ax = figure.axes[0]
    ax.scatter(*points[neighbours].T, s=120, facecolors="none", edgecolors="black",
               label=f"its {len(neighbours)} nearest neighbours")
    ax.scatter(*points[query].T, s=250, marker="*", color="black", label=f"query ({y[query]})")
    ax.legend(fontsize="small")
    plt.show()
    return figure


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings (for tests)")
    parser.add_argument("-k", type=int, default=5, help="neighbours per query")
    plot_neighbours(*main(**vars(parser.parse_args())))
