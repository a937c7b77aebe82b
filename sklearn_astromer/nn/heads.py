"""Output heads on top of the ASTROMER encoder."""

import torch
from torch import nn


class RegressionHead(nn.Module):
    """Per-observation magnitude regression: ``LayerNorm -> Linear(d_model, 1)``.

    Parameters
    ----------
    d_model : int
        Width of the encoder output.
    layer_norm_eps : float, default=1e-6
        Epsilon of the layer normalisation (1e-6 as in the original code).
    """

    def __init__(self, d_model, layer_norm_eps=1e-6):
        super().__init__()
        self.norm = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.linear = nn.Linear(d_model, 1)

    def forward(self, embeddings):
        """Map per-observation embeddings to magnitudes.

        Parameters
        ----------
        embeddings : Tensor of shape (batch, length, d_model)
            Encoder outputs.

        Returns
        -------
        Tensor of shape (batch, length)
            One magnitude per observation.
        """
        return self.linear(self.norm(embeddings)).squeeze(-1)


def masked_mean(embeddings, valid):
    """Mean of ``(batch, length, d)`` embeddings over the positions where ``valid`` is True."""
    weights = valid.to(embeddings.dtype).unsqueeze(-1)
    return (embeddings * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)


class LayerWeightedClassifier(nn.Module):
    """Classify from every encoder layer: a softmax-weighted mean of their pooled outputs.

    ASTROMER 2's downstream head (``skip_avg_mlp``): each layer's output,
    the input embedding included, is mean-pooled over the observations; the
    pooled vectors are averaged with weights ``softmax(gamma)`` (learned,
    equal at the start) and fed to an MLP.

    Each pooled vector is first standardised, feature by feature, with fixed
    statistics of the training light curves (:meth:`set_input_statistics`;
    identity until set). Pre-trained encoders can give pooled vectors that
    differ little between light curves beside a large common part (the
    published MACHO weights do): the per-sample layer norm keeps that common
    part, and a head on it learns far more slowly than a forest or a linear
    model on the same, standardised, columns.

    Parameters
    ----------
    n_layers : int
        Pooled vectors per sample (encoder blocks + 1).
    d_model : int
        Width of each pooled vector.
    n_classes : int
        Number of classes (logits).
    hidden : tuple of int, default=(256,)
        Hidden sizes of the MLP (ReLU).
    dropout : float, default=0.2
        Dropout on the MLP's input and after each hidden layer.
    """

    def __init__(self, n_layers, d_model, n_classes, hidden=(256,), dropout=0.2):
        super().__init__()
        self.layer_logits = nn.Parameter(torch.zeros(n_layers))
        self.register_buffer("input_mean", torch.zeros(n_layers, d_model))
        self.register_buffer("input_scale", torch.ones(n_layers, d_model))
        layers, width = [nn.LayerNorm(d_model), nn.Dropout(dropout)], d_model
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        self.mlp = nn.Sequential(*layers, nn.Linear(width, n_classes))

    @torch.no_grad()
    def set_input_statistics(self, pooled):
        """Standardise inputs with the mean and standard deviation of ``pooled``.

        Parameters
        ----------
        pooled : Tensor of shape (n_samples, n_layers, d_model)
            Pooled layer outputs of the training light curves. A column whose
            spread is under a tenth of its layer's median spread is divided by
            that tenth instead: nearly constant columns are not blown up (the
            training windows differ from whole curves more than the whole
            curves differ from each other there; a smaller floor, 1e-3, left a
            head on the MACHO weights at chance).
        """
        pooled = pooled.to(self.input_mean.device, torch.float64)
        mean, scale = pooled.mean(dim=0), pooled.std(dim=0, correction=0)
        typical = scale.median(dim=1, keepdim=True).values
        floor = torch.where(typical > 0, 0.1 * typical, torch.ones_like(typical))
        self.input_mean.copy_(mean)
        self.input_scale.copy_(torch.maximum(scale, floor))

    def combine(self, pooled):
        """Weighted mean of the standardised pooled layer outputs.

        Parameters
        ----------
        pooled : Tensor of shape (batch, n_layers, d_model)
            Each layer's output pooled over the observations.

        Returns
        -------
        Tensor of shape (batch, d_model)
            Their mean, weighted by ``softmax(layer_logits)``.
        """
        standardised = (pooled - self.input_mean.to(pooled.dtype)) / self.input_scale.to(
            pooled.dtype)
        weights = torch.softmax(self.layer_logits, dim=0).to(pooled.dtype)
        return torch.einsum("bld,l->bd", standardised, weights)

    def forward(self, pooled):
        """Class logits from the pooled layer outputs.

        Parameters
        ----------
        pooled : Tensor of shape (batch, n_layers, d_model)
            As :meth:`combine` takes it.

        Returns
        -------
        Tensor of shape (batch, n_classes)
            Class logits.
        """
        return self.mlp(self.combine(pooled))
