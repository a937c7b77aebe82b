"""Multi-layer perceptron for tabular metadata (AstroM3)."""

from torch import nn


class MetadataEncoder(nn.Module):
    """Two-layer MLP on a vector of metadata features.

    ``Linear(n_features, hidden_size) -> ReLU -> Dropout ->
    Linear(hidden_size, hidden_size) -> ReLU -> Dropout``, as AstroM3 encodes
    its 34 Gaia / 2MASS / WISE columns.

    Parameters
    ----------
    n_features : int
        Number of input columns. They should be z-scored with training-set
        statistics (and free of NaN: a missing metadata *row* is a missing
        modality, flagged in ``present``, not a NaN input).
    hidden_size : int, default=512
        Width of both hidden layers (and of the output).
    dropout : float, default=0.2
        Dropout after each hidden layer.

    Attributes
    ----------
    output_dim : int
        Size of the output vector (``hidden_size``).

    Examples
    --------
    >>> import torch
    >>> MetadataEncoder(34)(torch.zeros(5, 34)).shape
    torch.Size([5, 512])
    """

    def __init__(self, n_features, *, hidden_size=512, dropout=0.2):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, hidden_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, hidden_size),
            nn.ReLU(),
            nn.Dropout(dropout),
        )

    @property
    def output_dim(self):
        """Size of the output vector (int)."""
        return self.layers[-3].out_features

    def forward(self, metadata):
        """Encode a batch of metadata rows.

        Parameters
        ----------
        metadata : Tensor of shape (batch, n_features)
            z-scored metadata columns.

        Returns
        -------
        Tensor of shape (batch, hidden_size)
            The MLP's features.
        """
        return self.layers(metadata)
