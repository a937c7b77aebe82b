"""Multi-band light curves through a single-band ASTROMER (a mixin of the estimator).

Each band's observations are embedded as a light curve of their own, with
the period the bands share (:func:`~sklearn_astromer._bands.multiband_periods`),
and the per-band embeddings are concatenated in the order of ``bands_`` (NaN
columns for a band a light curve lacks) or averaged over the bands present
(``band_pooling``). Pre-training sees every (light curve, band) pair as a
light curve.
"""

import numpy as np

from ._building import check_n_bands, saved_bands
from .._bands import colour_names, per_band_curves
from .._finite import non_finite_error

BAND_POOLINGS = ("concat", "mean")
MULTIBAND_MODES = ("auto", "joint", "per_band")


class MultibandMixin:
    """Band handling of :class:`AstromerEmbedder`: ``bands_``, per-band pooling, colours."""

    def _fit_bands(self, prepared):
        """Set (or clear) ``bands_``: the ``bands`` parameter, else the training light
        curves' bands (which must then be among them)."""
        self.__dict__.pop("bands_", None)
        if self.bands is not None:
            self.bands_ = _band_codes(self.bands)
            self._check_bands(prepared)
        elif prepared.multiband:
            self.bands_ = np.unique(prepared.light_curves.bands)

    def _bands_from_parameter(self):
        """``from_pretrained``: take ``bands_`` from the ``bands`` parameter (a single-band
        model then embeds multi-band light curves per band without a ``fit``)."""
        if self.bands is None:
            return
        codes = _band_codes(self.bands)
        if hasattr(self, "bands_") and not np.array_equal(codes, self.bands_):
            raise ValueError(f"bands={codes.tolist()}, but the model embeds bands "
                             f"{self.bands_.tolist()}.")
        self.bands_ = codes

    def _joint(self):
        """Whether the model embeds every band in one sequence (band embeddings)."""
        return self.config_.get("n_bands", 0) > 0

    def _check_saved_bands(self, config, origin):
        """Weights and training light curves must agree on the bands (``pretrained``)."""
        check_n_bands(config["n_bands"], origin)
        multiband = hasattr(self, "bands_")
        if config["n_bands"]:
            saved = saved_bands(config.get("bands"), origin)
            if len(saved) != config["n_bands"] or self.multiband == "per_band":
                raise ValueError(f"{origin}: a joint model of {config['n_bands']} bands (saved "
                                 f"bands {config.get('bands')}); multiband='per_band' cannot "
                                 "use it." if self.multiband == "per_band" else
                                 f"{origin}: 'bands' does not list the {config['n_bands']} bands "
                                 "of its n_bands.")
            if multiband and not np.array_equal(saved, self.bands_):
                raise ValueError(f"{origin}: the model embeds bands {saved.tolist()}; these "
                                 f"light curves have bands {self.bands_.tolist()}.")
        elif self.multiband == "joint" and multiband:
            raise ValueError(f"{origin}: these weights embed one band at a time; "
                             "multiband='joint' needs a model trained on multi-band light "
                             "curves (or multiband='per_band').")

    def _model_input(self, prepared):
        """What the encoder takes: for a joint model, the light curves with each
        observation's band as its position in ``bands_``."""
        if not (prepared.multiband and self._joint()):
            return prepared
        if self.config_["period_input"]:
            prepared.periods  # searched once, on the caller's object (descriptors reuse them)
        return prepared.band_positions(self.bands_)

    def _check_bands(self, prepared):
        """Refuse light curves whose bands this fitted model does not know."""
        prepared.check_bands(getattr(self, "bands_", None))

    def _training_curves(self, prepared):
        """Light curves to pre-train on: each (light curve, band) pair of multi-band input,
        or the multi-band light curves themselves for a joint model."""
        if not prepared.multiband or self._joint():
            return self._model_input(prepared)
        light_curves, curve_index = per_band_curves(prepared.light_curves)
        if self.config_["period_input"]:
            prepared.periods  # the shared periods, searched once for every band
        return prepared.derived(light_curves, curve_index, prepared.first_index)

    def _pool_bands(self, prepared):
        """Per-band pooled embeddings of multi-band light curves, combined (``band_pooling``)."""
        n_features = self._n_pooled_features()
        if self.config_["period_input"]:
            prepared.periods  # the shared periods, searched once for every band
        columns = []
        for band in self.bands_:
            subset, rows = prepared.band(band)
            pooled = np.full((len(prepared), n_features), np.nan, np.float32)
            if len(rows):
                pooled[rows] = self._pooled(subset)
                bad = ~np.isfinite(pooled[rows]).all(axis=1)
                if bad.any():
                    raise non_finite_error(prepared.light_curves, rows[bad], "embeddings",
                                           prepared.first_index)
            columns.append(pooled)
        if self.band_pooling == "concat":
            return np.hstack(columns)
        stacked = np.stack(columns)
        present = np.isfinite(stacked[..., 0])
        return (np.where(present[..., None], stacked, 0.0).sum(axis=0)
                / present.sum(axis=0)[:, None]).astype(np.float32)

    def _band_feature_names(self, names):
        """Pooled-embedding names per band (concatenated pooling), then the colours'."""
        if not hasattr(self, "bands_") or self.band_pooling != "concat" or self._joint():
            return names
        return [f"{name}_band{band}" for band in self.bands_ for name in names]

    def _colour_names(self):
        return colour_names(self.bands_.tolist()) if hasattr(self, "bands_") else []


def _band_codes(bands):
    """The ``bands`` parameter as sorted, distinct non-negative int64 codes."""
    codes = np.asarray(bands)
    if (codes.ndim != 1 or not len(codes) or codes.dtype.kind not in "iu"
            or (codes < 0).any() or len(np.unique(codes)) != len(codes)):
        raise ValueError(f"bands must be distinct non-negative integer band codes, not "
                         f"{bands!r}.")
    return np.sort(codes).astype(np.int64)
