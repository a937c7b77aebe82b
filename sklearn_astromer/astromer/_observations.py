"""Per-observation outputs of a fitted AstromerEmbedder (a mixin of the estimator).

What the pre-training head gives besides the pooled embedding: every
observation's embedding, the reconstructed magnitudes, and the masked
reconstruction score used for model selection.
"""

from sklearn.utils.validation import check_is_fitted

from .. import _encoder_inference as _inference
from .._finite import check_finite

#: Mask seed of ``score``: every call scores the same masked observations.
SCORE_MASK_SEED = 0


class ObservationOutputsMixin:
    """``embed_observations``, ``reconstruct`` and ``score`` of :class:`AstromerEmbedder`."""

    def embed_observations(self, X):
        """Per-observation embeddings (the paper's "attention vectors").

        Parameters
        ----------
        X : list of (L_i, 2|3) arrays or ndarray (n_samples, n_steps)

        Returns
        -------
        list of float32 ndarray of shape (L_i, d_model)
            Item ``i`` belongs to light curve ``i``, row ``j`` to its input
            row ``j``: one row per input observation, in the input's order
            (the model sees them sorted by time). Rows of dropped
            observations (NaN or infinite values, announced by a warning)
            are NaN; observations at the same time each get their own row.
        """
        return self._per_observation(X, "embeddings")

    def reconstruct(self, X):
        """Reconstructed magnitudes of every observation, nothing masked.

        Parameters
        ----------
        X : list of (L_i, 2|3) arrays or ndarray (n_samples, n_steps)

        Returns
        -------
        list of float64 ndarray of shape (L_i,)
            Magnitudes in the input's scale (each window's scale and mean
            added back), one per input observation in the input's order; NaN
            for dropped observations (as :meth:`embed_observations`).
        """
        return self._per_observation(X, "reconstructions")

    def _per_observation(self, X, what):
        """``"embeddings"`` or ``"reconstructions"`` of every input observation."""
        check_is_fitted(self, "net_")
        prepared = self._validated(X)
        light_curves = prepared.light_curves
        with self._inference_context():
            outputs = _inference.per_observation_outputs(
                self.net_.module_.eval(), light_curves, embeddings=what == "embeddings",
                reconstruction=what == "reconstructions", device=self.net_.device,
                **self._window_args(prepared))
        values = outputs[0] if what == "embeddings" else outputs[1]
        check_finite(values, light_curves, what, per_observation=True)
        return light_curves.split_to_inputs(values)

    def score(self, X, y=None):
        """Negative masked-reconstruction RMSE (magnitudes), with a fixed mask seed.

        Higher is better, so model selection can use it directly. Also with
        ``fine_tune="supervised"``: a classifier after the embedder is scored
        by the pipeline, not by this method.

        Parameters
        ----------
        X : light curves
            Multi-band ones for a joint multi-band model (each band centred
            on its own mean in a window, as in pre-training).
        y : None
            Ignored.

        Returns
        -------
        float
            Finite: light curves whose reconstruction errors overflow raise a
            ValueError naming them (see :meth:`transform`).
        """
        check_is_fitted(self, "net_")
        prepared = self._validated(X, allow_bands=self._joint())
        prepared = self._model_input(prepared)
        light_curves, args = prepared.light_curves, self._window_args(prepared)
        with self._inference_context():
            rmse = _inference.masked_rmse_score(
                self.net_.module_.eval(), light_curves, seed=SCORE_MASK_SEED,
                mask_frac=self.mask_frac, same_frac=self.same_frac,
                random_frac=self.random_frac, device=self.net_.device, **args,
            )
        return -rmse
