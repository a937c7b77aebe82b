"""Class predictions of a fine-tuned AstromerEmbedder (a mixin of the estimator).

After ``fine_tune="supervised"`` the classification head gives class
probabilities; like ``transform`` they are computed chunk by chunk, and a
light curve whose logits overflow is named.
"""

import numpy as np
import torch
from sklearn.utils.metaestimators import available_if

from . import _supervised
from .._finite import check_finite
from .._validation import TRANSFORM_CHUNK_SIZE as CHUNK_SIZE, iter_light_curve_chunks


class PredictingMixin:
    """``predict_proba`` and ``predict`` of :class:`AstromerEmbedder`."""

    @available_if(lambda self: hasattr(self, "classifier_net_"))
    def predict_proba(self, X):
        """Class probabilities from the supervised head (``fine_tune="supervised"``).

        Parameters
        ----------
        X : light curves

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        model = self.classifier_net_.module_.eval()
        probabilities = []
        for first_index, chunk in iter_light_curve_chunks(X, CHUNK_SIZE):
            prepared = self._model_input(self._validated(chunk, first_index, allow_bands=True))
            with self._inference_context():
                logits = _supervised.predict_logits(model, prepared.light_curves,
                                                    device=self.net_.device,
                                                    **self._window_args(prepared))
            check_finite(logits.numpy(), prepared.light_curves, "class logits", first_index)
            probabilities.append(torch.softmax(logits.double(), dim=1).numpy())
        return np.concatenate(probabilities)

    @available_if(lambda self: hasattr(self, "classifier_net_"))
    def predict(self, X):
        """Most probable class of each light curve (``fine_tune="supervised"``).

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
