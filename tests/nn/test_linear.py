import pytest
import torch
import torch.nn.functional as F

from sklearn_astromer.nn import linear as linear_module
from sklearn_astromer.nn import Linear


def make_layer(in_features=16, out_features=24, bias=True):
    torch.manual_seed(0)
    return Linear(in_features, out_features, bias=bias)


def test_matches_functional_linear_on_3d_input_without_grad():
    layer = make_layer()
    x = torch.randn(3, 7, 16)
    with torch.inference_mode():
        torch.testing.assert_close(layer(x), F.linear(x, layer.weight, layer.bias))


@pytest.mark.parametrize("bias", [True, False])
def test_gradients_match_functional_linear(bias):
    layer = make_layer(bias=bias)
    x = torch.randn(3, 7, 16, requires_grad=True)
    upstream = torch.randn(3, 7, 24)
    (layer(x) * upstream).sum().backward()
    ours = [x.grad, layer.weight.grad] + ([layer.bias.grad] if bias else [])
    x.grad, layer.weight.grad = None, None
    if bias:
        layer.bias.grad = None
    (F.linear(x, layer.weight, layer.bias) * upstream).sum().backward()
    reference = [x.grad, layer.weight.grad] + ([layer.bias.grad] if bias else [])
    for got, expected in zip(ours, reference):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_frozen_input_gets_no_gradient_but_weights_do():
    layer = make_layer()
    x = torch.randn(5, 16)
    layer(x).sum().backward()
    assert layer.weight.grad is not None and layer.bias.grad is not None


def test_autocast_and_float64_fall_back_to_torch():
    layer = make_layer()
    x = torch.randn(4, 16)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert layer(x).dtype == torch.bfloat16
    double = make_layer().double()
    assert double(x.double()).dtype == torch.float64


def test_without_onednn_it_is_plain_linear(monkeypatch):
    monkeypatch.setattr(linear_module, "ONEDNN_LINEAR", False)
    layer = make_layer()
    x = torch.randn(4, 16)
    with torch.inference_mode():
        assert torch.equal(layer(x), F.linear(x, layer.weight, layer.bias))


def test_state_dict_keys_are_those_of_nn_linear():
    assert set(make_layer().state_dict()) == set(torch.nn.Linear(16, 24).state_dict())
