import math

import pytest
import torch

from sklearn_astromer.nn import AstromerEncoder, AstromerModel, TimePositionalEncoding


def test_positional_encoding_formula():
    encoding = TimePositionalEncoding(8)
    times = torch.tensor([[0.0, 1.5, -20.0]])
    values = encoding(times)[0]
    for j in range(8):
        frequency = 10000 ** (-2 * j / 8)
        expected = [math.sin(t * frequency) if j % 2 == 0 else math.cos(t * frequency)
                    for t in (0.0, 1.5, -20.0)]
        torch.testing.assert_close(values[:, j], torch.tensor(expected), atol=1e-6, rtol=0)


@pytest.mark.parametrize("variant, n_parameters", [("paper", 661_505), ("corrected", 661_506)])
def test_paper_size_parameter_counts(variant, n_parameters):
    model = AstromerModel(variant=variant)
    assert sum(p.numel() for p in model.parameters()) == n_parameters


def _batch(length=12, batch=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    times = torch.randn(batch, length, generator=generator) * 30
    magnitudes = torch.randn(batch, length, generator=generator)
    return times, magnitudes


def test_corrected_variant_ignores_padding():
    encoder = AstromerEncoder(d_model=16, n_layers=2, n_heads=2, d_ff=16).eval()
    times, magnitudes = _batch()
    mask = torch.zeros_like(times, dtype=torch.bool)
    short = encoder(times, magnitudes, mask)
    padded_times = torch.cat([times, torch.zeros(3, 5)], dim=1)
    padded_magnitudes = torch.cat([magnitudes, torch.full((3, 5), 7.0)], dim=1)
    padded_mask = torch.cat([mask, torch.ones(3, 5, dtype=torch.bool)], dim=1)
    padded = encoder(padded_times, padded_magnitudes, padded_mask)
    torch.testing.assert_close(padded[:, :12], short, atol=1e-5, rtol=0)


def test_corrected_variant_hides_masked_magnitudes():
    encoder = AstromerEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=16).eval()
    times, magnitudes = _batch()
    mask = torch.zeros_like(times, dtype=torch.bool)
    mask[:, 3] = True
    changed = magnitudes.clone()
    changed[:, 3] = 100.0
    torch.testing.assert_close(encoder(times, magnitudes, mask), encoder(times, changed, mask))


def test_paper_variant_attention_mask_is_additive_plus_one():
    encoder = AstromerEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=16, variant="paper")
    mask_in = torch.tensor([[False, True, False]])
    expected = torch.tensor([[0.0, 1, 0], [1, 1, 1], [0, 1, 0]])
    torch.testing.assert_close(encoder.attention_mask(mask_in)[0, 0], expected)
    assert encoder.attention_mask(torch.zeros(1, 3, dtype=torch.bool)) is None


def test_paper_variant_depends_on_padding_as_the_original_does():
    encoder = AstromerEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=16, variant="paper").eval()
    times, magnitudes = _batch()
    mask = torch.zeros_like(times, dtype=torch.bool)
    short = encoder(times, magnitudes, mask)
    padded = encoder(torch.cat([times, torch.zeros(3, 5)], 1),
                     torch.cat([magnitudes, torch.zeros(3, 5)], 1),
                     torch.cat([mask, torch.ones(3, 5, dtype=torch.bool)], 1))
    assert not torch.allclose(padded[:, :12], short, atol=1e-4)


@pytest.mark.parametrize("variant", ["paper", "corrected"])
def test_attention_weights_match_fused_path(variant):
    encoder = AstromerEncoder(d_model=16, n_layers=2, n_heads=2, d_ff=16, variant=variant).eval()
    times, magnitudes = _batch()
    mask = torch.zeros_like(times, dtype=torch.bool)
    mask[0, -4:] = True
    fused = encoder(times, magnitudes, mask)
    explicit, weights = encoder(times, magnitudes, mask, return_weights=True)
    torch.testing.assert_close(fused, explicit, atol=1e-5, rtol=0)
    assert len(weights) == 2 and weights[0].shape == (3, 2, 12, 12)
    torch.testing.assert_close(weights[0].sum(-1), torch.ones(3, 2, 12))


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="variant"):
        AstromerEncoder(variant="bert")
