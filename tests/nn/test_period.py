import math

import pytest
import torch

from sklearn_astromer.nn import AstromerEncoder, LogPeriodTimeEncoding, PeriodInputEmbedding
from sklearn_astromer.nn.period import DESCRIPTOR_NAMES
from sklearn_astromer.nn.positional import make_time_encoding


def test_log_period_encoding_resolves_hours():
    encoding = LogPeriodTimeEncoding(8, min_period=0.125, max_period=1000.0)
    periods = 2 * math.pi / torch.exp(encoding.log_frequencies)
    torch.testing.assert_close(periods[[0, -1]], torch.tensor([0.125, 1000.0]), rtol=1e-6,
                               atol=0)
    # a full period of the shortest wave (3 hours) brings its pair back to the start
    values = encoding(torch.tensor([[0.0, 0.125]]))[0]
    torch.testing.assert_close(values[0, :2], values[1, :2], atol=1e-5, rtol=0)
    assert values[0, 0] == 0 and values[0, 1] == 1  # sin, cos at t = 0


def test_log_period_encoding_needs_an_even_width():
    with pytest.raises(ValueError, match="even"):
        LogPeriodTimeEncoding(7)


def test_learnable_frequencies_get_gradients_and_fixed_ones_are_not_saved():
    learnable = make_time_encoding("learnable", 8)
    learnable(torch.randn(2, 5) * 10).sum().backward()
    assert learnable.log_frequencies.grad is not None
    assert "log_frequencies" in learnable.state_dict()
    assert "log_frequencies" not in make_time_encoding("log_periods", 8).state_dict()
    with pytest.raises(ValueError, match="time_encoding"):
        make_time_encoding("fourier", 8)


def test_period_input_embeds_phase_harmonics_and_descriptors():
    embedding = PeriodInputEmbedding(6, n_harmonics=2)
    phases = torch.tensor([[0.0, 0.25, 1.0]])
    descriptors = torch.zeros(1, len(DESCRIPTOR_NAMES))
    out = embedding(phases, descriptors)
    assert out.shape == (1, 3, 6)
    # phase is periodic: 0 and 1 cycle embed alike
    torch.testing.assert_close(out[0, 0], out[0, 2], atol=1e-5, rtol=0)
    assert not torch.allclose(out[0, 0], out[0, 1])
    assert torch.count_nonzero(embedding.zero_()(phases, descriptors)) == 0


def test_encoder_with_period_input_needs_it_and_uses_it():
    encoder = AstromerEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=16,
                              time_encoding="log_periods", period_input=True).eval()
    times, magnitudes = torch.randn(2, 9) * 20, torch.randn(2, 9)
    mask = torch.zeros(2, 9, dtype=torch.bool)
    with pytest.raises(ValueError, match="period input"):
        encoder(times, magnitudes, mask)
    phases, descriptors = torch.rand(2, 9), torch.randn(2, len(DESCRIPTOR_NAMES))
    out = encoder(times, magnitudes, mask, phases, descriptors)
    shifted = encoder(times, magnitudes, mask, (phases + 0.3) % 1, descriptors)
    assert out.shape == (2, 9, 16) and not torch.allclose(out, shifted)


def test_encoder_returns_every_layer():
    encoder = AstromerEncoder(d_model=16, n_layers=3, n_heads=2, d_ff=16).eval()
    times, magnitudes = torch.randn(2, 9) * 20, torch.randn(2, 9)
    mask = torch.zeros(2, 9, dtype=torch.bool)
    layers = encoder(times, magnitudes, mask, return_layers=True)
    assert len(layers) == 4
    torch.testing.assert_close(layers[-1], encoder(times, magnitudes, mask))
