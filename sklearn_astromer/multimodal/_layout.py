"""Which modalities a multimodal model has, and where their starting weights come from.

A *layout* is the JSON-able description of a fitted model's inputs: the
modality names (the order of ``present``'s columns), their kinds, the column
each one reads, the wavelength grid, the metadata transform and
standardisation, the photometry encoder and the standardisation of its
auxiliary inputs. It is
learned from the training frame, or read from a model saved by
``MultimodalCLIPEmbedder.save_pretrained``.
"""

import numpy as np

from ._cells import column_cells, is_frame, is_missing
from ._config import check_saved_config, check_saved_tensors, full_architecture
from ._data import METADATA, METADATA_MODALITY, PHOTOMETRY, SPECTRUM, infer_wavelength_grid
from ._metadata import default_metadata_columns, fit_standardiser, metadata_values
from ._net import PHOTOMETRY_KEYS, tower_inputs
from ..nn import AstromerEncoder
from ..pretrained import (
    check_state_dict,
    expected_shapes,
    load_model,
    load_pretrained,
    model_files,
)

ESTIMATOR_NAME = "MultimodalCLIPEmbedder"


def as_column_list(columns):
    """``None`` -> ``[]``, ``"a"`` -> ``["a"]``, a sequence -> a list."""
    if columns is None:
        return []
    return [columns] if isinstance(columns, str) else list(columns)


def load_saved(source):
    """``(config, state_dict)`` of a directory written by ``save_pretrained``."""
    config, state_dict = load_model(source)
    if config.get("estimator") != ESTIMATOR_NAME:
        raise ValueError(f"{source} was not saved by {ESTIMATOR_NAME}.save_pretrained.")
    config_file, weights_file = model_files(source)
    check_saved_config(config, config_file)
    classes = config.get("classes")
    check_saved_tensors(full_architecture(config), None if classes is None else len(classes),
                        state_dict, weights_file)
    config["columns"] = _map_column_labels(config["columns"], label_from_json)
    config["metadata_columns"] = [label_from_json(label) for label in config["metadata_columns"]]
    return config, state_dict


def _requested_metadata(X, metadata_columns, excluded, saved_config):
    if saved_config is None:
        columns = (default_metadata_columns(X, excluded) if metadata_columns is None
                   else list(metadata_columns))
        return [(METADATA_MODALITY, METADATA, columns)] if columns else []
    saved_columns = saved_config.get("metadata_columns") or []
    if metadata_columns is None:
        return [(METADATA_MODALITY, METADATA, saved_columns)] if saved_columns else []
    if list(metadata_columns) != saved_columns:
        raise ValueError(f"metadata_columns {list(metadata_columns)} differ from the "
                         f"pretrained model's {saved_columns}.")
    return [(METADATA_MODALITY, METADATA, saved_columns)]


def _band_modalities(X, column):
    """``[(name, code)]`` of a multi-band light-curve column (cells with a fourth, band
    column), one per band code of its cells; None for a single-band column."""
    arrays = [np.asarray(cell, dtype=np.float64) for cell in column_cells(X, column)
              if not is_missing(cell)]
    if not arrays or arrays[0].ndim != 2 or arrays[0].shape[1] != 4:
        return None
    codes = np.unique(np.concatenate([array[:, 3] for array in arrays
                                      if array.ndim == 2 and array.shape[1] == 4]))
    codes = codes[np.isfinite(codes)]
    if ((codes != np.round(codes)) | (codes < 0)).any():
        raise ValueError(f"Column {column!r}: band codes must be non-negative integers, not "
                         f"{codes[(codes != np.round(codes)) | (codes < 0)][:3].tolist()}.")
    return [(f"{column}_band{int(code)}", int(code)) for code in codes]


def requested_modalities(X, light_curve_column, spectrum_column, metadata_columns,
                         saved_config=None):
    """``(name, kind, column)`` of every modality the column parameters enable, and the band
    of each multi-band photometry modality (``{name: code}``).

    A non-DataFrame ``X`` (light curves alone) gives the first light-curve
    modality only. A light-curve column of multi-band light curves (cells
    with a fourth, band column) gives one photometry modality per band,
    named ``<column>_band<code>``. With ``saved_config``, each modality must
    exist in the saved model, and the metadata columns are the saved ones.
    """
    light_curve_columns = as_column_list(light_curve_column)
    bands = {}
    if not is_frame(X):
        if not light_curve_columns:
            raise ValueError("X is not a DataFrame and light_curve_column is None.")
        requested = [(light_curve_columns[0], PHOTOMETRY, light_curve_columns[0])]
    else:
        requested = []
        for column in light_curve_columns:
            split = _band_modalities(X, column)
            requested += ([(column, PHOTOMETRY, column)] if split is None
                          else [(name, PHOTOMETRY, column) for name, _ in split])
            bands.update(split or [])
        if spectrum_column is not None:
            requested.append((spectrum_column, SPECTRUM, spectrum_column))
        if metadata_columns is None or len(metadata_columns):
            requested += _requested_metadata(X, metadata_columns,
                                             light_curve_columns + [spectrum_column],
                                             saved_config)
    names = [name for name, _, _ in requested]
    if len(set(names)) != len(names):
        raise ValueError(f"Modality names must differ, got {names}.")
    if not requested:
        raise ValueError("Every modality is disabled: enable at least one column.")
    if saved_config is not None:
        known = dict(zip(saved_config["modalities"], saved_config["kinds"]))
        for name, kind, _ in requested:
            if known.get(name) != kind:
                raise ValueError(f"The pretrained model has no {kind} modality {name!r} "
                                 f"(it has {saved_config['modalities']}).")
    return requested, bands


def fit_layout(X, requested, saved_config=None, wavelengths=None, *, metadata_transform=None,
               photometry_encoder="astromer", photometry_bands=None):
    """The layout of ``requested`` modalities: statistics from ``saved_config`` or ``X``.

    The standardisation of AstroM3's photometry inputs needs them computed
    first: it starts empty here, and the estimator fills it from the
    prepared training data (see :func:`~._data.fit_photometry_statistics`).

    Returns
    -------
    dict
        ``modalities``, ``kinds``, ``columns`` (lists), ``wavelengths``
        (float64 ndarray or None), ``metadata_columns`` (list),
        ``metadata_transform`` (None or ``"astrom3"``), ``metadata_mean`` and
        ``metadata_scale`` (float64 ndarrays), ``photometry_encoder``,
        ``photometry_statistics`` (dict of modality to ``[mean, scale]``) and
        ``photometry_bands`` (dict of multi-band photometry modality to its
        band code).
    """
    spectra = [column for _, kind, column in requested if kind == SPECTRUM]
    metadata = [column for _, kind, column in requested if kind == METADATA]
    layout = {
        "modalities": [name for name, _, _ in requested],
        "kinds": [kind for _, kind, _ in requested],
        "columns": [column for _, _, column in requested],
        "metadata_columns": metadata[0] if metadata else [],
        "wavelengths": None, "metadata_mean": np.empty(0), "metadata_scale": np.empty(0),
        "metadata_transform": metadata_transform, "photometry_encoder": photometry_encoder,
        "photometry_statistics": {}, "photometry_bands": dict(photometry_bands or {}),
    }
    if saved_config is not None:
        names = set(layout["modalities"])
        layout.update(
            metadata_transform=saved_config.get("metadata_transform"),
            photometry_encoder=saved_config.get("photometry_encoder", "astromer"),
            photometry_statistics={name: value for name, value
                                   in (saved_config.get("photometry_statistics") or {}).items()
                                   if name in names},
            photometry_bands={name: code for name, code
                              in (saved_config.get("photometry_bands") or {}).items()
                              if name in names},
        )
        if spectra:
            layout["wavelengths"] = np.asarray(saved_config["wavelengths"], dtype=np.float64)
        if metadata:
            layout["metadata_mean"] = np.asarray(saved_config["metadata_mean"])
            layout["metadata_scale"] = np.asarray(saved_config["metadata_scale"])
        return layout
    if spectra:
        layout["wavelengths"] = infer_wavelength_grid(column_cells(X, spectra[0]), spectra[0],
                                                      wavelengths)
    if metadata:
        values = metadata_values(X, metadata[0], metadata_transform)
        layout["metadata_mean"], layout["metadata_scale"] = fit_standardiser(values, metadata[0])
    return layout


def layout_to_json(layout):
    """The layout with its arrays as lists and its column labels as JSON (for ``config.json``)."""
    encoded = {key: value.tolist() if isinstance(value, np.ndarray) else value
               for key, value in layout.items()}
    encoded["columns"] = _map_column_labels(layout["columns"], label_to_json)
    encoded["metadata_columns"] = [label_to_json(label) for label in layout["metadata_columns"]]
    return encoded


def _map_column_labels(columns, convert):
    """``convert`` applied to every label of a layout's ``columns`` (the metadata entry is a
    list of labels, the others one label each)."""
    return [[convert(label) for label in column] if isinstance(column, list) else convert(column)
            for column in columns]


def label_to_json(label):
    """A column label as JSON: strings, numbers and booleans as Python's (numpy scalars
    included), tuples (pandas' multi-level labels) as ``{"tuple": [...]}``.

    Raises
    ------
    TypeError
        For labels of other types, which a saved model could not give back.
    """
    if isinstance(label, tuple):
        return {"tuple": [label_to_json(part) for part in label]}
    if isinstance(label, np.generic):
        label = label.item()
    if label is None or isinstance(label, (str, int, float, bool)):
        return label
    raise TypeError(f"column label {label!r} of type {type(label).__name__} cannot be saved: "
                    "use strings, numbers or tuples of them.")


def label_from_json(value):
    """The column label that :func:`label_to_json` wrote as ``value``."""
    if isinstance(value, dict) and set(value) == {"tuple"}:
        return tuple(label_from_json(part) for part in value["tuple"])
    return value


def saved_requested(config):
    """The saved model's own modalities as ``(name, kind, column)``."""
    return list(zip(config["modalities"], config["kinds"], config["columns"]))


def photometry_weights(init):
    """``(architecture, encoder state_dict)`` for ``photometry_init``, or ``(None, None)``.

    ``init`` is a fitted ``AstromerEmbedder``, an unfitted one with
    ``pretrained`` set, or anything ``load_pretrained`` accepts.
    """
    if init is None:
        return None, None
    if hasattr(init, "net_"):
        config, state_dict = init.config_, init.net_.module_.state_dict()
        source = None
    elif hasattr(init, "get_params"):
        if getattr(init, "pretrained", None) is None:
            raise ValueError("photometry_init is an unfitted AstromerEmbedder without "
                             "pretrained weights: fit it first.")
        source = init.pretrained
        config, state_dict = load_pretrained(source)
    else:
        source = init
        config, state_dict = load_pretrained(source)
    missing = [key for key in PHOTOMETRY_KEYS if key not in config]
    if missing:
        raise ValueError(f"{model_files(source)[0]}: the config of photometry_init lacks "
                         f"{missing}.")
    if config.get("n_bands", 0):
        raise ValueError("photometry_init is a joint multi-band model (n_bands="
                         f"{config['n_bands']}); the multimodal towers take one band per "
                         "light-curve column: start them from a single-band model.")
    # The tower takes the encoder's inputs as trained: time encoding, period
    # input (the light curves' periods, searched once per call), scaled magnitudes.
    architecture = {**{key: config[key] for key in PHOTOMETRY_KEYS}, **tower_inputs(config)}
    encoder = {key[len("encoder."):]: value for key, value in state_dict.items()
               if key.startswith("encoder.")}
    if source is not None:
        params = {key: value for key, value in architecture.items()
                  if key not in ("max_obs", "magnitude_scaling")}
        check_state_dict(expected_shapes(AstromerEncoder, **params), encoder,
                         model_files(source)[1])
    return architecture, encoder
