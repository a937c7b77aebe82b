"""ASTROMER encoder with its masked-magnitude regression head."""

from torch import nn

from .encoder import AstromerEncoder
from .heads import RegressionHead


class AstromerModel(nn.Module):
    """The pre-training model: :class:`AstromerEncoder` + :class:`RegressionHead`.

    Parameters
    ----------
    **encoder_params
        Passed to :class:`AstromerEncoder` (``d_model``, ``n_layers``,
        ``n_heads``, ``d_ff``, ``dropout``, ``variant``, ``pe_base``).
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

    def forward(self, times, magnitudes, mask_in):
        """Reconstruct ``(batch, length)`` zero-mean magnitudes from a batch of windows."""
        return self.head(self.encoder(times, magnitudes, mask_in))
