"""Light curves of one call, validated once, with what is derived from them computed once.

``fit``, ``transform`` and the other methods validate their input into a
:class:`PreparedLightCurves` and hand that object down: the period search
and the descriptors run on first use and are kept on the object for the
rest of the call (the pooled embeddings, the descriptor columns, the
supervised validation subset), and nowhere else.
"""

import dataclasses

import numpy as np

from ._bands import band_subset, colour_summaries, multiband_periods
from ._periods import lomb_scargle_periods
from ._validation import check_light_curves, format_indices
from .preprocessing import curve_descriptors


class PreparedLightCurves:
    """Validated light curves with their periods and descriptors, each computed at most once.

    Parameters
    ----------
    light_curves : RaggedLightCurves
        Validated light curves (from
        :func:`~sklearn_astromer._validation.check_light_curves`).
    first_index : int, default=0
        Index of the first light curve in the caller's data (for messages).
    n_jobs : int or None, default=None
        Threads of the period search.
    periods : tuple of two ndarrays or None, default=None
        ``(frequencies, powers)`` when already known.
    device : str or torch.device, default="cpu"
        Where the period search's coarse pass runs (the model's device).
    """

    def __init__(self, light_curves, first_index=0, n_jobs=None, periods=None, device="cpu"):
        self.light_curves = light_curves
        self.first_index = first_index
        self.n_jobs = n_jobs
        self.device = device
        self._periods = periods
        self._descriptors = None

    @classmethod
    def from_input(cls, X, first_index=0, n_jobs=None, allow_bands=False, device="cpu"):
        """Validate ``X`` (see :func:`~sklearn_astromer._validation.check_light_curves`)."""
        return cls(check_light_curves(X, first_index=first_index, allow_bands=allow_bands),
                   first_index, n_jobs, device=device)

    @property
    def multiband(self):
        """Whether the light curves carry a band per observation."""
        return self.light_curves.bands is not None

    def __len__(self):
        return len(self.light_curves)

    @property
    def periods(self):
        """``(frequencies, powers)`` of the best Lomb-Scargle peak of every light curve (one
        period shared by the bands of a multi-band light curve)."""
        if self._periods is None:
            search = multiband_periods if self.multiband else lomb_scargle_periods
            self._periods = search(self.light_curves, n_jobs=self.n_jobs, device=self.device)
        return self._periods

    @property
    def descriptors(self):
        """The five light-curve descriptors of every light curve, ``(n_samples, 5)``."""
        if self._descriptors is None:
            self._descriptors = curve_descriptors(self.light_curves, *self.periods)
        return self._descriptors

    def check_bands(self, bands_):
        """Refuse light curves whose bands a fitted model does not know.

        Parameters
        ----------
        bands_ : int ndarray or None
            The band codes the model was fitted on; None for a single-band model.

        Raises
        ------
        ValueError
            When multi-band light curves meet a single-band model or the
            reverse, and naming the light curves with band codes not in ``bands_``.
        """
        fitted = bands_ is not None
        if self.multiband != fitted:
            raise ValueError(
                "This model was fitted on multi-band light curves (a band column): give "
                "(n_observations, 4) arrays." if fitted else
                "These light curves have a band column but the model was fitted on "
                "single-band ones: fit it on multi-band light curves (max_epochs=0 keeps the "
                "weights) so that it learns the bands (bands_).")
        if not fitted:
            return
        bands = self.light_curves.bands
        unknown = ~np.isin(bands, bands_)
        if unknown.any():
            samples = np.repeat(np.arange(len(self)), self.light_curves.lengths)
            raise ValueError(
                f"Light curve(s) {format_indices(np.unique(samples[unknown]) + self.first_index)}"
                f" have band code(s) {sorted(set(bands[unknown].tolist()))[:5]} that the model "
                f"was not fitted on (bands_ = {list(bands_)}).")

    def band_positions(self, bands_):
        """These light curves with each observation's band as its position in ``bands_``
        (what a joint multi-band encoder reads), periods kept."""
        light_curves = dataclasses.replace(
            self.light_curves, bands=np.searchsorted(bands_, self.light_curves.bands))
        return self.derived(light_curves)

    def colours(self, bands_):
        """Colours and amplitude ratios of neighbouring bands of ``bands_`` (see
        :func:`~sklearn_astromer._bands.colour_summaries`)."""
        return colour_summaries(self.light_curves, bands_)

    def derived(self, light_curves, rows=None, first_index=None):
        """New light curves made from these, one per ``rows`` (default: the same rows), with
        the periods already found for those rows.

        Parameters
        ----------
        light_curves : RaggedLightCurves
            E.g. a subset, one band, or the same curves with other band codes.
        rows : int ndarray or None, default=None
            The light curve of this object each new one comes from.
        first_index : int or None, default=None
            For messages; None keeps this object's when ``rows`` is None, else 0.
        """
        periods = self._periods
        if periods is not None and rows is not None:
            periods = tuple(np.asarray(part)[rows] for part in periods)
        if first_index is None:
            first_index = self.first_index if rows is None else 0
        return PreparedLightCurves(light_curves, first_index, self.n_jobs, periods=periods,
                                   device=self.device)

    def band(self, band):
        """``(prepared, rows)``: the observations of ``band`` of the light curves that have
        any (with their shared periods), and which light curves those are."""
        light_curves, rows = band_subset(self.light_curves, band)
        return self.derived(light_curves, rows), rows

    def subset(self, indices):
        """The light curves ``indices``, keeping what was already computed for them."""
        indices = np.asarray(indices)
        subset = self.derived(self.light_curves.subset(indices), indices)
        if self._descriptors is not None:
            subset._descriptors = self._descriptors[indices]
        return subset
