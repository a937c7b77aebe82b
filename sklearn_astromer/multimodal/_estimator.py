"""MultimodalCLIPEmbedder: AstroM3 (CLIP over light curves, spectra, metadata) as a transformer."""

import os
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._building import ModelBuildingMixin
from ._data import (PHOTOMETRY_ENCODERS, fit_photometry_statistics, prepare_inputs,
                    standardise_photometry)
from ._layout import fit_layout, load_saved, requested_modalities
from ._metadata import METADATA_TRANSFORMS
from ._net import check_tower_times, embed_modalities, fuse
from ._persistence import PersistenceMixin
from .._base import BaseEmbedder, n_samples_of
from .._torch_common import LightCurveIndexDataset, release_training_data, resolve_device
from ..astromer import AstromerEmbedder


def _has_classifier(estimator):
    return estimator.fine_tune == "supervised"


class MultimodalCLIPEmbedder(PersistenceMixin, ModelBuildingMixin, BaseEmbedder):
    """Embed objects seen in several modalities into one space, trained with CLIP (AstroM3).

    Each modality has its own encoder ("tower") and a linear projection to a
    shared ``embed_dim`` space, L2-normalised: per light-curve column
    AstroM3's Informer on normalised flux with six auxiliary values (or an
    ASTROMER encoder, mean over observations), a 1-D CNN for spectra and an
    MLP for metadata. ``fit`` trains them self-supervised with the
    symmetric CLIP loss summed over every pair of modalities, so that the
    embeddings of one object agree across modalities; an object lacking a
    modality is left out of that modality's pairs. ``transform`` averages
    the available modality embeddings of each object.

    Parameters
    ----------
    light_curve_column : str, list of str or None, default="light_curve"
        Column(s) of light curves: cells are ``(L, 2|3)`` arrays (time in
        days, magnitude[, error]) or None. Several columns (e.g. two bands)
        get one tower each, and so does each band of a column of multi-band
        ``(L, 4)`` light curves (modality ``<column>_band<code>``).
    spectrum_column : str or None, default="spectrum"
        Column of spectra: 1-D flux on the grid ``wavelengths``, or
        ``(n_points, 2|3)`` arrays (wavelength in Angstrom, flux[, error])
        resampled onto it by linear interpolation; None cells are missing.
        None disables spectra.
    metadata_columns : list of str or None, default=None
        Numeric columns of metadata; None takes every numeric column that is
        not a light-curve or spectrum column, ``[]`` disables metadata. A
        row whose metadata are all NaN lacks the modality; single NaN values
        are replaced by the training mean.
    photometry_encoder : {"astrom3", "astromer"}, default="astrom3"
        The light-curve tower. ``"astrom3"``: AstroM3's, as its code computes
        it: nine channels per observation (time scaled to [0, 1], relative
        flux ``(flux - mean) / MAD`` and its error ``/ MAD``, then amplitude,
        log10 Lomb-Scargle period, Lafler-Kinman statistic, periodogram
        power, ``log10(MAD)`` and time span in years, tiled along time; the
        first four z-scored with the training set), a Conv1d token
        embedding, an index encoding and an Informer encoder with
        ProbSparse attention, flattened over the ``max_obs`` steps (a random
        crop in training, the centre crop at inference). ``"astromer"``:
        ASTROMER's encoder on zero-mean times (days) and magnitudes,
        averaged over consecutive windows covering every observation; the
        one ``photometry_init`` can start.
    metadata_transform : {"astrom3"} or None, default="astrom3"
        ``"astrom3"``: before z-scoring, as AstroM3, the apparent magnitudes
        among the metadata columns (``make_multimodal``'s names: ``mean_mag``,
        ``phot_g_mean_mag``, ``phot_bp_mean_mag``, ``phot_rp_mean_mag``,
        ``j_mag``, ``h_mag``, ``k_mag``, ``w1_mag`` ... ``w4_mag``) become
        absolute magnitudes with the ``parallax`` column (mas; 1 mas where
        not positive), ``l`` becomes ``cos(l)`` and ``b`` becomes ``sin(b)``
        (degrees). Columns of other names are only z-scored. None: z-scores
        only.
    embed_dim : int, default=512
        Size of the shared embedding space (AstroM3: 512).
    d_model, n_layers, n_heads, d_ff : int or None, default=None
        Photometry encoder sizes; None takes the published ones: AstroM3's
        Informer 128, 8, 4, 512, or ASTROMER's 256, 2, 4, 128.
    max_obs : int, default=200
        Observations per light-curve window (AstroM3 and ASTROMER: 200).
    spectrum_channels : tuple of int, default=(64, 64, 32, 32)
        Channels of the spectrum CNN's convolutions (AstroM3's); the last
        feature maps are flattened, so their size follows the grid.
    metadata_hidden : int, default=512
        Width of the metadata MLP (AstroM3: 512).
    dropout : float, default=0.1
        Dropout in every tower.
    wavelengths : array-like or None, default=None
        Wavelength grid (Angstrom) of the spectra. None: AstroM3's grid,
        3850-8998 Angstrom in steps of 2 (2575 points), unless the first
        training spectrum is 1-D flux of another length, whose sample index
        then serves as the grid.
    output : {"fused", "concat"}, default="fused"
        What ``transform`` returns: the mean of the available normalised
        modality embeddings (``embed_dim`` features), or every modality's
        embedding side by side (``n_modalities * embed_dim``, NaN where an
        object lacks the modality). :meth:`transform_modalities` gives them
        as a dict.
    photometry_init : AstromerEmbedder, str, path-like or None, default=None
        Start the light-curve tower(s) from these ASTROMER weights: a fitted
        :class:`AstromerEmbedder` (or an unfitted one with ``pretrained``
        set), or whatever ``AstromerEmbedder(pretrained=...)`` accepts
        (``"macho"``, ``"atlas"``, a zip, a folder, a ``save_pretrained``
        directory). ``d_model``, ``n_layers``, ``n_heads``, ``d_ff`` and
        ``max_obs``, the encoder variant and its inputs (time encoding,
        period input, magnitude scaling) then come from the weights.
    pretrained : str, path-like or None, default=None
        A directory written by :meth:`save_pretrained`: architecture, fitted
        preprocessing and weights come from it and ``fit`` fine-tunes. The
        modalities enabled here must be among the saved ones (a subset is
        fine: e.g. ``spectrum_column=None, metadata_columns=[]`` keeps the
        light-curve tower alone, for single-modality fine-tuning).
    fine_tune : {"none", "supervised"}, default="none"
        ``"supervised"``: after the CLIP epochs, ``fit(X, y)`` trains a
        linear classifier on the fused embedding together with every tower
        (cross-entropy, nothing frozen), as AstroM3 fine-tunes; then
        :meth:`predict` and :meth:`predict_proba` are available and
        ``transform`` gives the fine-tuned embeddings. With ``max_epochs=0``
        this trains from scratch (or from ``pretrained``).
    fine_tune_epochs : int, default=50
        Epochs of supervised fine-tuning (AstroM3: at most 50, early stopped).
    fine_tune_lr : float or None, default=None
        Learning rate of fine-tuning (None: ``lr``).
    max_epochs : int, default=100
        CLIP training epochs (AstroM3: at most 100, early stopped); 0 trains
        nothing (the towers keep their initial, ``photometry_init`` or
        ``pretrained`` weights). CLIP needs two modalities or more.
    batch_size : int, default=512
        Objects per batch; every batch is one CLIP problem, so larger
        batches give harder negatives (AstroM3: 512, last batch dropped).
    inference_batch_size : int or "auto", default="auto"
        Light-curve windows per batch in ``transform``, ``predict`` and
        friends; ``"auto"`` fills each batch with a budget of padded
        observations (about 8192 on a CPU, 262,144 on a GPU), as
        :class:`AstromerEmbedder` does.
    lr : float, default=3.9e-3
        Adam learning rate (AstroM3's).
    warmup_epochs : int, default=10
        Epochs of linear learning-rate warm-up from ``1e-5 * lr`` (AstroM3's),
        for CLIP training and for fine-tuning; the reduce-on-plateau
        schedule starts after them.
    weight_decay : float, default=4.7e-3
        Adam's L2 penalty (AstroM3's value).
    validation_fraction : float or None, default=0.2
        Share of objects held out for early stopping and the learning-rate
        schedule (reduce on plateau); None or 0 trains on all.
    patience : int, default=6
        Epochs without improvement of the validation loss before stopping
        (AstroM3's), counted after the warm-up; the best weights are
        restored. After the warm-up, the learning rate is halved after
        ``max(1, patience // 2)`` such epochs.
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks for the CLIP net.
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Torch device; ``"auto"`` takes a GPU when one is visible.
    precision : {"float32", "bfloat16"}, default="float32"
        ``"bfloat16"``: mixed-precision training (CLIP and fine-tuning: the
        forward passes autocast to bfloat16, weights, optimizer and loss in
        float32) and autocast inference; faster on GPUs and on CPUs with
        AVX512-BF16, embeddings within ~1e-2 of float32.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, windows, dropout and shuffling.
    verbose : int, default=0

    Attributes
    ----------
    modalities_ : tuple of str
        Modality names: the light-curve columns, the spectrum column and
        ``"metadata"``, in that order.
    config_ : dict
        Architecture actually used (JSON-able).
    layout_ : dict
        Modalities, their kinds and columns, and the fitted preprocessing
        (the attributes below), as saved by :meth:`save_pretrained`.
    wavelengths_ : ndarray or None
        Grid the spectra are resampled onto (Angstrom).
    metadata_columns_ : list of str
    metadata_mean_, metadata_scale_ : ndarray of shape (n_metadata,)
        Standardisation learned from the training rows, after
        ``metadata_transform`` (NaN ignored); always finite.
    net_ : MultimodalCLIPNet
        ``net_.module_`` is the :class:`~sklearn_astromer.nn.MultimodalCLIPModel`,
        ``net_.criterion_`` the :class:`~sklearn_astromer.nn.ContrastiveLoss`.
    classifier_net_ : MultimodalClassifierNet
        With ``fine_tune="supervised"``: the fine-tuning net (its towers are
        copied back into ``net_``).
    classes_ : ndarray
        With ``fine_tune="supervised"``.
    device_ : str

    See Also
    --------
    AstromerEmbedder : Light curves alone, masked-magnitude pre-training.
    sklearn_astromer.similarity : Nearest neighbours and outlier scores.

    References
    ----------
    .. [1] Rizhko, M. & Bloom, J. S. (2024). "AstroM3: A self-supervised
       multimodal model for astronomy". arXiv:2411.08842.

    Examples
    --------
    >>> from sklearn_astromer import MultimodalCLIPEmbedder
    >>> from sklearn_astromer.datasets import make_multimodal
    >>> X, y = make_multimodal(n_per_class=4, random_state=0)
    >>> embedder = MultimodalCLIPEmbedder(
    ...     embed_dim=8, d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=32,
    ...     spectrum_channels=(4, 4, 4, 4), metadata_hidden=8, max_epochs=1,
    ...     batch_size=16, random_state=0).fit(X)
    >>> embedder.modalities_
    ('light_curve', 'spectrum', 'metadata')
    >>> embedder.transform(X).shape
    (40, 8)
    """

    _samples_name = "objects"
    _parameter_constraints = {
        "light_curve_column": [str, list, tuple, None],
        "spectrum_column": [str, None],
        "metadata_columns": [list, tuple, None],
        "photometry_encoder": [StrOptions(set(PHOTOMETRY_ENCODERS))],
        "metadata_transform": [StrOptions(set(METADATA_TRANSFORMS)), None],
        "embed_dim": [Interval(Integral, 1, None, closed="left")],
        "d_model": [Interval(Integral, 1, None, closed="left"), None],
        "n_layers": [Interval(Integral, 1, None, closed="left"), None],
        "n_heads": [Interval(Integral, 1, None, closed="left"), None],
        "d_ff": [Interval(Integral, 1, None, closed="left"), None],
        "max_obs": [Interval(Integral, 1, None, closed="left")],
        "spectrum_channels": [list, tuple],
        "metadata_hidden": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "wavelengths": ["array-like", None],
        "output": [StrOptions({"fused", "concat"})],
        "photometry_init": [AstromerEmbedder, str, os.PathLike, None],
        "pretrained": [str, os.PathLike, None],
        "fine_tune": [StrOptions({"none", "supervised"})],
        "fine_tune_epochs": [Interval(Integral, 0, None, closed="left")],
        "fine_tune_lr": [Interval(Real, 0, None, closed="neither"), None],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "inference_batch_size": [Interval(Integral, 1, None, closed="left"),
                                 StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "callbacks": [list, None],
        "device": [str],
        "precision": [StrOptions({"float32", "bfloat16"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, light_curve_column="light_curve", spectrum_column="spectrum",
                 metadata_columns=None, *, photometry_encoder="astrom3",
                 metadata_transform="astrom3", embed_dim=512, d_model=None, n_layers=None,
                 n_heads=None, d_ff=None, max_obs=200, spectrum_channels=(64, 64, 32, 32),
                 metadata_hidden=512, dropout=0.1, wavelengths=None, output="fused",
                 photometry_init=None, pretrained=None, fine_tune="none", fine_tune_epochs=50,
                 fine_tune_lr=None, max_epochs=100, batch_size=512, inference_batch_size="auto",
                 lr=3.9e-3, warmup_epochs=10, weight_decay=4.7e-3, validation_fraction=0.2,
                 patience=6, callbacks=None, device="auto", precision="float32", random_state=None,
                 verbose=0):
        self.light_curve_column = light_curve_column
        self.spectrum_column = spectrum_column
        self.metadata_columns = metadata_columns
        self.photometry_encoder = photometry_encoder
        self.metadata_transform = metadata_transform
        self.embed_dim = embed_dim
        self.d_model = d_model
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.d_ff = d_ff
        self.max_obs = max_obs
        self.spectrum_channels = spectrum_channels
        self.metadata_hidden = metadata_hidden
        self.dropout = dropout
        self.wavelengths = wavelengths
        self.output = output
        self.photometry_init = photometry_init
        self.pretrained = pretrained
        self.fine_tune = fine_tune
        self.fine_tune_epochs = fine_tune_epochs
        self.fine_tune_lr = fine_tune_lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.inference_batch_size = inference_batch_size
        self.lr = lr
        self.warmup_epochs = warmup_epochs
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.patience = patience
        super().__init__(callbacks=callbacks, device=device, precision=precision,
                         random_state=random_state, verbose=verbose)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Train the towers with the CLIP loss (then fine-tune them on ``y`` if asked).

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_columns), or light curves
            One row per object (see the column parameters). A list or dense
            array of light curves is a catalogue of that one modality
            (enough for ``max_epochs=0`` or supervised training only).
        y : array-like of shape (n_samples,) or None
            Class labels, used only with ``fine_tune="supervised"`` (required then).

        Returns
        -------
        self : MultimodalCLIPEmbedder
        """
        self._validate_params()
        if self.pretrained is not None and self.photometry_init is not None:
            raise ValueError("Give pretrained or photometry_init, not both.")
        if self.photometry_init is not None and self.photometry_encoder != "astromer":
            raise ValueError('photometry_init holds ASTROMER weights: it needs '
                             'photometry_encoder="astromer".')
        labels = (self._encode_labels(y, n_samples_of(X)) if self.fine_tune == "supervised"
                  else None)
        seed = self._draw_seed()
        saved = None if self.pretrained is None else load_saved(self.pretrained)
        requested, bands = requested_modalities(X, self.light_curve_column,
                                                self.spectrum_column, self.metadata_columns,
                                                saved and saved[0])
        self._set_layout(fit_layout(X, requested, saved and saved[0], self.wavelengths,
                                    metadata_transform=self.metadata_transform,
                                    photometry_encoder=self.photometry_encoder,
                                    photometry_bands=bands))
        # AstroM3's photometry inputs are computed here, once per light curve,
        # and serve every epoch of CLIP training and fine-tuning.
        data = prepare_inputs(X, self.layout_, device=resolve_device(self.device))
        if saved is None:
            self.layout_["photometry_statistics"] = fit_photometry_statistics(data)
            standardise_photometry(data, self.layout_["photometry_statistics"])
        empty = [name for name, has in zip(self.modalities_, data.present.any(axis=0)) if not has]
        if empty:
            raise ValueError(f"Modalities {empty} are missing in every training row; disable "
                             "them (light_curve_column / spectrum_column=None, "
                             "metadata_columns=[]).")
        if self.max_epochs > 0 and len(self.modalities_) < 2:
            raise ValueError(
                f"CLIP training contrasts two modalities or more; X gives only "
                f"{list(self.modalities_)}. Add a spectrum or metadata column, or set "
                'max_epochs=0 (e.g. with fine_tune="supervised").'
            )
        with self._fitting(seed):
            self._initialize_net(saved, data if self.max_epochs > 0 else None, seed)
            check_tower_times(data, self.config_)  # once, before any epoch
            if self.max_epochs > 0:
                self.net_.partial_fit(LightCurveIndexDataset(len(data)), None)
                release_training_data(self.net_)
            if labels is not None:
                self._fine_tune(data, labels, saved, seed + 2)
        self.net_.module_.eval()
        return self

    def _set_layout(self, layout):
        self.layout_ = layout
        self.modalities_ = tuple(layout["modalities"])
        self.wavelengths_ = layout["wavelengths"]
        self.metadata_columns_ = layout["metadata_columns"]
        self.metadata_mean_ = layout["metadata_mean"]
        self.metadata_scale_ = layout["metadata_scale"]

    # ------------------------------------------------------------ inference
    def transform_modalities(self, X):
        """Every modality's normalised embedding.

        Parameters
        ----------
        X : DataFrame or light curves

        Returns
        -------
        dict of str to float32 ndarray of shape (n_samples, embed_dim)
            One entry per modality in ``modalities_``; unit vectors, NaN rows
            where the object lacks the modality.
        """
        check_is_fitted(self, "net_")
        data = prepare_inputs(X, self.layout_, device=resolve_device(self.device))
        with self._inference_context():
            return embed_modalities(self.net_.module_.eval(), data, config=self.config_,
                                    batch_size=self.inference_batch_size,
                                    device=self.net_.device)

    def transform(self, X):
        """Embed each object.

        Parameters
        ----------
        X : DataFrame or light curves
            One row per object, as in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples, n_features), float32
            ``output="fused"``: the mean of the available modality embeddings
            (``embed_dim`` features, finite). ``output="concat"``: the
            modalities side by side, in the order of ``modalities_``, NaN
            where an object lacks one.
        """
        embeddings = self.transform_modalities(X)
        if self.output == "concat":
            return np.concatenate(list(embeddings.values()), axis=1)
        return fuse(embeddings)

    def _output_names(self):
        """``multimodalclipembedder0, ...``; with ``output="concat"``,
        ``multimodalclipembedder_<modality>0, ...``."""
        prefix = type(self).__name__.lower()
        if self.output != "concat":
            return [f"{prefix}{i}" for i in range(self._n_features_out)]
        dim = self.config_["embed_dim"]
        return [f"{prefix}_{name}{i}" for name in self.modalities_ for i in range(dim)]

    @available_if(_has_classifier)
    def predict_proba(self, X):
        """Class probabilities of the fine-tuned head, ``(n_samples, n_classes)`` float32."""
        check_is_fitted(self, "classifier_net_")
        fused = torch.tensor(fuse(self.transform_modalities(X)), device=self.net_.device)
        with self._inference_context():
            logits = self.classifier_net_.module_.head(fused)
        return torch.softmax(logits.float(), dim=1).cpu().numpy()

    @available_if(_has_classifier)
    def predict(self, X):
        """Class labels of the fine-tuned head."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
