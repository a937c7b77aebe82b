"""Informer encoder (AstroM3's photometry tower): ProbSparse attention, encoding, masking."""

import math

import pytest
import torch
import torch.nn.functional as F

from sklearn_astromer.nn import (
    InformerEncoder,
    InformerPhotometryTower,
    ProbSparseAttention,
)
from sklearn_astromer.nn.informer import index_encoding, n_active


def _full_attention(attention, x):
    """Plain multi-head softmax attention with the same projections."""
    batch, length, d_model = x.shape
    heads = attention.n_heads

    def split(projection):
        return projection(x).view(batch, length, heads, -1).transpose(1, 2)

    out = F.scaled_dot_product_attention(split(attention.query_projection),
                                         split(attention.key_projection),
                                         split(attention.value_projection))
    return attention.out_projection(out.transpose(1, 2).reshape(batch, length, d_model))


def test_index_encoding_is_the_transformer_sine_cosine_pairs():
    encoding = index_encoding(50, 8)
    position, k = 17, 2
    frequency = 10000.0 ** (-2 * k / 8)
    assert encoding.shape == (50, 8)
    assert encoding[position, 2 * k] == pytest.approx(math.sin(position * frequency), abs=1e-6)
    assert encoding[position, 2 * k + 1] == pytest.approx(math.cos(position * frequency),
                                                          abs=1e-6)


def test_n_active_is_factor_times_ceil_log_length():
    assert n_active(200, 1) == 6  # AstroM3's 200-step windows: 6 active queries
    assert n_active(16, 1) == 3
    assert n_active(16, 100) == 16


def test_probsparse_with_every_query_active_is_full_attention():
    torch.manual_seed(0)
    attention = ProbSparseAttention(16, 2, factor=100).eval()
    x = torch.randn(3, 12, 16)
    torch.testing.assert_close(attention(x), _full_attention(attention, x), atol=1e-5,
                               rtol=1e-5)


def test_lazy_queries_get_the_mean_of_the_values():
    torch.manual_seed(0)
    attention = ProbSparseAttention(8, 1, factor=1).eval()
    with torch.no_grad():  # identity values and output: the context is visible
        for projection in (attention.value_projection, attention.out_projection):
            projection.weight.copy_(torch.eye(8))
            projection.bias.zero_()
    x = torch.randn(2, 40, 8)
    out = attention(x)
    is_mean = torch.isclose(out, x.mean(1, keepdim=True), atol=1e-6).all(-1)
    # ceil(ln 40) = 4 queries attend; the 36 others output the mean
    assert is_mean.sum(1).tolist() == [36, 36]


def test_eval_is_deterministic_and_independent_of_the_batch():
    torch.manual_seed(0)
    attention = ProbSparseAttention(16, 4).eval()
    x = torch.randn(5, 30, 16)
    out = attention(x)
    torch.testing.assert_close(attention(x), out)
    torch.testing.assert_close(attention(x[2:3]), out[2:3], atol=1e-5, rtol=1e-5)
    attention.train()
    draws = [attention(x) for _ in range(3)]
    assert not all(torch.equal(draws[0], draw) for draw in draws[1:])


def test_encoder_embeds_channels_and_positions():
    torch.manual_seed(0)
    encoder = InformerEncoder(9, d_model=16, n_layers=2, n_heads=2, d_ff=32).eval()
    assert encoder.token_embedding.kernel_size == (3,)
    assert encoder.token_embedding.padding_mode == "circular"
    assert encoder.token_embedding.bias is None
    series = torch.randn(4, 20, 9)
    out = encoder(series)
    assert out.shape == (4, 20, 16) and torch.isfinite(out).all()
    # final LayerNorm: zero mean, unit variance per step
    torch.testing.assert_close(out.mean(-1), torch.zeros(4, 20), atol=1e-5, rtol=0)
    # the index encoding makes identical steps differ by position
    flat = encoder(torch.ones(1, 20, 9))
    assert not torch.allclose(flat[0, 3], flat[0, 10])


def test_tower_flattens_steps_and_zeroes_padding():
    torch.manual_seed(0)
    tower = InformerPhotometryTower(InformerEncoder(9, 8, 1, 2, 16), max_obs=20).eval()
    assert tower.output_dim == 160
    series = torch.randn(3, 20, 9)
    mask_in = torch.zeros(3, 20, dtype=torch.bool)
    mask_in[1, 12:] = True
    mask_in[2] = True  # an absent light curve
    out = tower(series, mask_in)
    assert out.shape == (3, 160)
    steps = out.view(3, 20, 8)
    assert (steps[1, 12:] == 0).all() and (steps[1, :12] != 0).any(-1).all()
    assert (steps[2] == 0).all() and (steps[0] != 0).any(-1).all()
    with pytest.raises(ValueError, match="windows of 20 steps"):
        tower(series[:, :10], mask_in[:, :10])


def test_tower_trains():
    torch.manual_seed(0)
    tower = InformerPhotometryTower(InformerEncoder(9, 8, 2, 2, 16), max_obs=12)
    tower(torch.randn(4, 12, 9), torch.zeros(4, 12, dtype=torch.bool)).square().sum().backward()
    grads = [p.grad for p in tower.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert tower.encoder.token_embedding.weight.grad.abs().sum() > 0
