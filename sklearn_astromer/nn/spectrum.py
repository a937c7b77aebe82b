"""1-D convolutional encoder for spectra on a fixed wavelength grid (AstroM3)."""

from torch import nn

POOLINGS = ("flatten", "mean", "max")


class SpectrumEncoder(nn.Module):
    """Convolutional spectrum encoder (GalSpecNet-like, as in AstroM3).

    ``Conv1d(kernel_size) -> ReLU`` for every entry of ``channels``, with a
    ``MaxPool1d(pool_size)`` after every convolution but the last, then the
    feature maps are flattened (AstroM3) or pooled over wavelength.

    Parameters
    ----------
    n_wavelengths : int or None, default=2575
        Length of the wavelength grid (2575 = 3850..9000 Angstrom in steps
        of 2, as AstroM3 resamples LAMOST spectra). Required with
        ``pooling="flatten"``, whose output size depends on it; ignored (may
        be None) with ``"mean"`` and ``"max"``, which accept any grid long
        enough for the convolutions.
    in_channels : int, default=3
        Channels per wavelength. AstroM3 uses three: the flux normalised as
        ``(flux - mean(flux)) / MAD(flux)``, the flux error divided by the
        same MAD, and a constant channel ``log10(MAD)`` that keeps the
        overall flux level the normalisation removes.
    channels : sequence of int, default=(64, 64, 32, 32)
        Output channels of the successive convolutions.
    kernel_size : int, default=3
        Width of every convolution (grid steps; no padding).
    pool_size : int, default=4
        Width and stride of the max-pooling after each convolution but the last.
    pooling : {"flatten", "mean", "max"}, default="flatten"
        How the last feature maps ``(channels[-1], length)`` become one
        vector: flattened (``channels[-1] * length`` features, 1184 for the
        defaults) or averaged / maximised over wavelength (``channels[-1]``
        features, any grid length).
    dropout : float, default=0.0
        Dropout on the output features.

    Attributes
    ----------
    output_dim : int
        Size of the output vector.

    Examples
    --------
    >>> import torch
    >>> encoder = SpectrumEncoder(2575)
    >>> encoder(torch.zeros(2, 3, 2575)).shape
    torch.Size([2, 1184])
    """

    def __init__(
        self,
        n_wavelengths=2575,
        *,
        in_channels=3,
        channels=(64, 64, 32, 32),
        kernel_size=3,
        pool_size=4,
        pooling="flatten",
        dropout=0.0,
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}.")
        if pooling == "flatten" and n_wavelengths is None:
            raise ValueError('pooling="flatten" needs n_wavelengths (the grid length).')
        channels = tuple(int(c) for c in channels)
        if not channels:
            raise ValueError("channels must name at least one convolution.")
        self.n_wavelengths = n_wavelengths
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.pooling = pooling
        layers = []
        for i, (n_in, n_out) in enumerate(zip((in_channels, *channels), channels)):
            layers += [nn.Conv1d(n_in, n_out, kernel_size), nn.ReLU()]
            if i < len(channels) - 1:
                layers.append(nn.MaxPool1d(pool_size))
        self.convolutions = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self._n_convolutions = len(channels)
        self._out_channels = channels[-1]
        if n_wavelengths is not None:
            self.feature_length(n_wavelengths)  # fail now on a grid too short

    def feature_length(self, n_wavelengths):
        """Length of the last feature maps for a grid of ``n_wavelengths`` points.

        Parameters
        ----------
        n_wavelengths : int
            Points of the wavelength grid.

        Returns
        -------
        int
            Length of each of the last convolution's feature maps.

        Raises
        ------
        ValueError
            If the grid is too short for the convolutions and poolings.
        """
        length = n_wavelengths
        for i in range(self._n_convolutions):
            length -= self.kernel_size - 1
            if i < self._n_convolutions - 1:
                length //= self.pool_size
            if length < 1:
                raise ValueError(
                    f"A grid of {n_wavelengths} wavelengths is too short for "
                    f"{self._n_convolutions} convolutions of width {self.kernel_size} "
                    f"with max-pooling {self.pool_size}."
                )
        return length

    @property
    def output_dim(self):
        """Size of the output vector (int)."""
        if self.pooling == "flatten":
            return self._out_channels * self.feature_length(self.n_wavelengths)
        return self._out_channels

    def forward(self, spectra):
        """Encode a batch of spectra.

        Parameters
        ----------
        spectra : Tensor of shape (batch, in_channels, n_wavelengths)
            Normalised flux, error and log-MAD channels on the wavelength grid
            (see ``in_channels``).

        Returns
        -------
        Tensor of shape (batch, output_dim)
        """
        if self.pooling == "flatten" and spectra.shape[-1] != self.n_wavelengths:
            raise ValueError(
                f"Expected spectra on a grid of {self.n_wavelengths} wavelengths, got "
                f"{spectra.shape[-1]}; flattened features need the grid length fixed "
                'at construction (use pooling="mean" or "max" for any length).'
            )
        features = self.convolutions(spectra)
        if self.pooling == "flatten":
            features = features.flatten(1)
        elif self.pooling == "mean":
            features = features.mean(-1)
        else:
            features = features.amax(-1)
        return self.dropout(features)

