"""ASTROMER encoder with its masked-magnitude regression head, or a classification head."""

import torch
from torch import nn

from .encoder import AstromerEncoder
from .heads import RegressionHead, masked_mean


class AstromerModel(nn.Module):
    """The pre-training model: :class:`AstromerEncoder` + :class:`RegressionHead`.

    Parameters
    ----------
    **encoder_params
        Passed to :class:`AstromerEncoder` (``d_model``, ``n_layers``,
        ``n_heads``, ``d_ff``, ``dropout``, ``variant``, ``pe_base``,
        ``time_encoding``, ``period_input``, ``n_harmonics``).
    """

    def __init__(self, **encoder_params):
        super().__init__()
        self.encoder = AstromerEncoder(**encoder_params)
        d_model = self.encoder.input_projection.out_features
        self.head = RegressionHead(d_model)
        self.reset_parameters()

    def reset_parameters(self):
        """Glorot-uniform weights and zero biases, as Keras initialises Dense layers."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, times, magnitudes, mask_in, phases=None, descriptors=None, bands=None):
        """Reconstruct ``(batch, length)`` zero-mean magnitudes from a batch of windows.

        Parameters
        ----------
        times, magnitudes, mask_in : Tensor of shape (batch, length)
            The windows, as :meth:`AstromerEncoder.forward` takes them.
        phases, descriptors : Tensor, optional
            The period input, as :meth:`AstromerEncoder.forward` takes it.
        bands : int Tensor of shape (batch, length), optional
            Each observation's band (an encoder with ``n_bands``).

        Returns
        -------
        Tensor of shape (batch, length)
            Reconstructed zero-mean magnitudes.
        """
        return self.head(self.encoder(times, magnitudes, mask_in, phases, descriptors,
                                      bands=bands))


class AstromerClassifierModel(nn.Module):
    """An encoder and a :class:`LayerWeightedClassifier` on its per-layer pooled outputs.

    Supervised fine-tuning trains both together; the encoder is the very
    module of the pre-training model (shared, not copied), so the fine-tuned
    weights are what the embedder then uses.

    Parameters
    ----------
    encoder : AstromerEncoder
        The encoder to fine-tune.
    classifier : LayerWeightedClassifier
        The head on the mean of each layer's outputs over the visible observations.
    """

    def __init__(self, encoder, classifier):
        super().__init__()
        self.encoder = encoder
        self.classifier = classifier

    def forward(self, times, magnitudes, mask_in, phases=None, descriptors=None, bands=None):
        """Class logits of a batch of windows.

        Parameters
        ----------
        times, magnitudes, mask_in, phases, descriptors : Tensor
            As :meth:`AstromerModel.forward` takes them, but nothing is masked:
            ``mask_in`` is True on padding only.
        bands : int Tensor of shape (batch, length), optional
            Each observation's band (an encoder with ``n_bands``).

        Returns
        -------
        Tensor of shape (batch, n_classes)
            Class logits.
        """
        layers = self.encoder(times, magnitudes, mask_in, phases, descriptors,
                              return_layers=True, bands=bands)
        pooled = torch.stack([masked_mean(layer, ~mask_in) for layer in layers], dim=1)
        return self.classifier(pooled)
