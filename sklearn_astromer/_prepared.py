"""Light curves of one call, validated once, with what is derived from them computed once.

``fit``, ``transform`` and the other methods validate their input into a
:class:`PreparedLightCurves` and hand that object down: the period search
and the descriptors run on first use and are kept on the object for the
rest of the call (the pooled embeddings, the descriptor columns, the
supervised validation subset), and nowhere else.
"""

import numpy as np

from ._periods import lomb_scargle_periods
from ._validation import check_light_curves
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
    """

    def __init__(self, light_curves, first_index=0, n_jobs=None, periods=None):
        self.light_curves = light_curves
        self.first_index = first_index
        self.n_jobs = n_jobs
        self._periods = periods
        self._descriptors = None

    @classmethod
    def from_input(cls, X, first_index=0, n_jobs=None):
        """Validate ``X`` (see :func:`~sklearn_astromer._validation.check_light_curves`)."""
        return cls(check_light_curves(X, first_index=first_index), first_index, n_jobs)

    def __len__(self):
        return len(self.light_curves)

    @property
    def periods(self):
        """``(frequencies, powers)`` of the best Lomb-Scargle peak of every light curve."""
        if self._periods is None:
            self._periods = lomb_scargle_periods(self.light_curves, n_jobs=self.n_jobs)
        return self._periods

    @property
    def descriptors(self):
        """The five light-curve descriptors of every light curve, ``(n_samples, 5)``."""
        if self._descriptors is None:
            self._descriptors = curve_descriptors(self.light_curves, *self.periods)
        return self._descriptors

    def subset(self, indices):
        """The light curves ``indices``, keeping what was already computed for them."""
        indices = np.asarray(indices)
        periods = (None if self._periods is None
                   else tuple(np.asarray(part)[indices] for part in self._periods))
        subset = PreparedLightCurves(self.light_curves.subset(indices), n_jobs=self.n_jobs,
                                     periods=periods)
        if self._descriptors is not None:
            subset._descriptors = self._descriptors[indices]
        return subset
