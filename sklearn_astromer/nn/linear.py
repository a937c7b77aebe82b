"""A linear layer whose float32 CPU products run through oneDNN where that is faster."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable


def onednn_linear_available():
    """Whether this torch build has the oneDNN linear kernel (``mkldnn::_linear_pointwise``)."""
    try:
        return torch.backends.mkldnn.is_available() and hasattr(
            torch.ops.mkldnn, "_linear_pointwise")
    except (AttributeError, RuntimeError):
        return False


ONEDNN_LINEAR = onednn_linear_available()


def _cpu_autocast_enabled():
    try:
        return torch.is_autocast_enabled("cpu")
    except TypeError:  # torch < 2.4
        return torch.is_autocast_cpu_enabled()


def _onednn_linear(x, weight, bias):
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


class _OneDNNLinearFunction(torch.autograd.Function):
    """``x @ weight.T + bias`` with oneDNN for the forward product and the input gradient.

    The weight gradient stays with :func:`torch.mm` (MKL), which is the faster
    of the two for that transposed product.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return _onednn_linear(x, weight, bias)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_x = grad_weight = grad_bias = None
        flat_grad = grad_output.reshape(-1, grad_output.shape[-1])
        if ctx.needs_input_grad[0]:
            grad_x = _onednn_linear(grad_output, weight.t().contiguous(), None)
        if ctx.needs_input_grad[1]:
            grad_weight = flat_grad.t().mm(x.reshape(-1, x.shape[-1]))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = flat_grad.sum(0)
        return grad_x, grad_weight, grad_bias


class Linear(nn.Linear):
    """:class:`torch.nn.Linear` that multiplies float32 CPU tensors with oneDNN.

    PyTorch's CPU wheels multiply float32 matrices with MKL, which on some
    processors (AMD EPYC among them) reaches less than half of what oneDNN,
    also bundled with PyTorch, reaches for the same product: measured here,
    110 against 275 GFLOP/s for a (8000, 256) x (256, 768) product. This layer
    uses oneDNN for the forward product and the input gradient when the
    tensors are float32 on the CPU and autocast is off, and falls back to
    :func:`torch.nn.functional.linear` otherwise (GPU, reduced precision,
    torch builds without the kernel, export to ONNX). Results agree with ``nn.Linear`` to
    float32 rounding; parameters and ``state_dict`` keys are the same.

    Parameters
    ----------
    in_features : int
        Size of each input vector.
    out_features : int
        Size of each output vector.
    bias : bool, default=True
        Learn an additive bias.
    device : torch.device, optional
        Where the parameters are created.
    dtype : torch.dtype, optional
        Type of the parameters.
    """

    def forward(self, x):
        if (ONEDNN_LINEAR and x.device.type == "cpu" and x.dtype == torch.float32
                and self.weight.dtype == torch.float32
                and not _cpu_autocast_enabled() and not torch.compiler.is_exporting()):
            if torch.is_grad_enabled() and (x.requires_grad or self.weight.requires_grad):
                return _OneDNNLinearFunction.apply(x, self.weight, self.bias)
            return _onednn_linear(x, self.weight, self.bias)
        return F.linear(x, self.weight, self.bias)
