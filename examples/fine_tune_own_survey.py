"""Fine-tune a pre-trained ASTROMER on your own survey, then save and reload it
=============================================================================

Start from the published MACHO model (A&A 2023), shipped in the package
(``--weights`` picks another: ``atlas``, a published zip or a saved model
directory). Fine-tune it, self-supervised, on
(simulated) ZTF light curves: different band, cadence and noise. The masked
reconstruction error on held-out ZTF light curves shows what fine-tuning
buys; the model is then saved with ``save_pretrained`` and reloaded, as the
``sklearn-astromer embed --model DIR`` command would. The figures show the
training history and the reconstruction of a held-out light curve's masked
observations. Run it from a checkout::

    python examples/fine_tune_own_survey.py           # a few minutes on 2 cores
    python examples/fine_tune_own_survey.py --quick   # seconds, tiny settings
"""

import argparse
import os
import tempfile
from importlib.util import find_spec
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.datasets import make_light_curves


def main(quick=False, weights="macho"):
    # The documentation's gallery runs the examples small: docs/conf.py sets this variable.
    quick = quick or os.environ.get("SKLEARN_ASTROMER_DOCS_QUICK") == "1"
    print(f"starting from the pre-trained weights {weights}", flush=True)
    base = AstromerEmbedder.from_pretrained(weights)
    X, _ = make_light_curves(3 if quick else 40, survey="ztf", random_state=1,
                             n_obs=(30, 80) if quick else None)
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)

    with tempfile.TemporaryDirectory() as folder:
        base.save_pretrained(Path(folder) / "base")
        fine_tuned = AstromerEmbedder(pretrained=Path(folder) / "base",
                                      max_epochs=1 if quick else 10, lr=3e-4,
                                      batch_size=32 if quick else 64, random_state=0,
                                      verbose=int(not quick))
        print(f"fine-tuning on {len(X_train)} ZTF-like light curves", flush=True)
        fine_tuned.fit(X_train)  # self-supervised: no labels
        print("scoring the masked reconstruction before and after", flush=True)

        print(f"masked RMSE on held-out ZTF light curves: {-base.score(X_test):.3f} mag before, "
              f"{-fine_tuned.score(X_test):.3f} mag after fine-tuning "
              f"({len(fine_tuned.net_.history)} epoch(s))")

        fine_tuned.save_pretrained(Path(folder) / "ztf")
        reloaded = AstromerEmbedder.from_pretrained(Path(folder) / "ztf")
        same = np.allclose(reloaded.transform(X_test), fine_tuned.transform(X_test), atol=1e-5)
        print(f"saved to {Path(folder) / 'ztf'} and reloaded: identical embeddings: {same}")
    return fine_tuned, X_test


def plot_fine_tuning(fine_tuned, X_test):
    """Loss per epoch, a held-out light curve reconstructed (when matplotlib is installed)."""
    if find_spec("matplotlib") is None:  # the figure is optional: the [plot] extra
        return None
    import matplotlib.pyplot as plt

    from sklearn_astromer.plotting import plot_reconstruction, plot_training_history

    figure, (history, reconstruction) = plt.subplots(1, 2, figsize=(11, 4))
    plot_training_history(fine_tuned, ax=history)
    plot_reconstruction(fine_tuned, X_test[0], random_state=0, ax=reconstruction)
    figure.tight_layout()
    plt.show()
    return figure


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings (for tests)")
    parser.add_argument("--weights", default="macho",
                        help="'macho' (default), 'atlas', a zip or a saved model directory")
    plot_fine_tuning(*main(**vars(parser.parse_args())))
