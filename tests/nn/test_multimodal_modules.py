"""Spectrum and metadata encoders, the photometry tower and the multimodal model."""

import pytest
import torch

from sklearn_astromer.nn import (
    AstromerEncoder,
    ContrastiveLoss,
    MetadataEncoder,
    MultimodalClassifier,
    MultimodalCLIPModel,
    PhotometryTower,
    SpectrumEncoder,
)

BATCH, LENGTH, N_WAVELENGTHS, N_FEATURES, EMBED_DIM = 4, 12, 500, 7, 16


@pytest.fixture
def photometry_tower():
    torch.manual_seed(0)
    encoder = AstromerEncoder(d_model=16, n_layers=2, n_heads=2, d_ff=16, variant="corrected")
    return PhotometryTower(encoder).eval()


@pytest.fixture
def model(photometry_tower):
    torch.manual_seed(1)
    towers = {
        "photometry": photometry_tower,
        "spectra": SpectrumEncoder(N_WAVELENGTHS, channels=(8, 8, 4, 4)),
        "metadata": MetadataEncoder(N_FEATURES, hidden_size=32),
    }
    return MultimodalCLIPModel(towers, embed_dim=EMBED_DIM).eval()


def light_curve_windows(batch=BATCH, length=LENGTH, n_real=(12, 9, 5, 12), seed=0):
    generator = torch.Generator().manual_seed(seed)
    times = torch.cumsum(torch.rand(batch, length, generator=generator) * 3, dim=1)
    magnitudes = torch.randn(batch, length, generator=generator) * 0.3
    mask_in = torch.arange(length) >= torch.tensor(n_real)[:, None]
    times, magnitudes = times.masked_fill(mask_in, 0.0), magnitudes.masked_fill(mask_in, 0.0)
    return times, magnitudes, mask_in


def batch_inputs(batch=BATCH, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return {
        "photometry": light_curve_windows(batch, seed=seed),
        "spectra": torch.randn(batch, 3, N_WAVELENGTHS, generator=generator),
        "metadata": torch.randn(batch, N_FEATURES, generator=generator),
    }


# Spectrum encoder ---------------------------------------------------------


@pytest.mark.parametrize(("n_wavelengths", "flat_dim"), [(2575, 1184), (500, 160)])
def test_spectrum_encoder_flattened_size_follows_grid(n_wavelengths, flat_dim):
    encoder = SpectrumEncoder(n_wavelengths)
    assert encoder.output_dim == flat_dim
    assert encoder(torch.randn(2, 3, n_wavelengths)).shape == (2, flat_dim)


@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_spectrum_encoder_global_pooling_takes_any_grid(pooling):
    encoder = SpectrumEncoder(None, pooling=pooling)
    assert encoder.output_dim == 32
    for n_wavelengths in (2575, 500):
        assert encoder(torch.randn(2, 3, n_wavelengths)).shape == (2, 32)


def test_spectrum_encoder_channels_are_configurable():
    encoder = SpectrumEncoder(500, in_channels=1, channels=(16, 8), pooling="mean")
    assert encoder(torch.randn(3, 1, 500)).shape == (3, encoder.output_dim) == (3, 8)


def test_spectrum_encoder_refuses_wrong_or_too_short_grid():
    with pytest.raises(ValueError, match="too short"):
        SpectrumEncoder(60)
    with pytest.raises(ValueError, match="grid of 500"):
        SpectrumEncoder(500)(torch.randn(1, 3, 600))
    with pytest.raises(ValueError, match="n_wavelengths"):
        SpectrumEncoder(None)


# Metadata encoder ----------------------------------------------------------


def test_metadata_encoder_shapes():
    assert MetadataEncoder(34)(torch.randn(5, 34)).shape == (5, 512)
    encoder = MetadataEncoder(N_FEATURES, hidden_size=64)
    assert encoder.output_dim == 64
    assert encoder(torch.randn(5, N_FEATURES)).shape == (5, 64)


# Photometry tower ----------------------------------------------------------


def test_photometry_tower_ignores_padding(photometry_tower):
    times, magnitudes, mask_in = light_curve_windows()
    extra = 20
    padded = (
        torch.nn.functional.pad(times, (0, extra)),
        torch.nn.functional.pad(magnitudes, (0, extra)),
        torch.nn.functional.pad(mask_in, (0, extra), value=True),
    )
    with torch.no_grad():
        short = photometry_tower(times, magnitudes, mask_in)
        long = photometry_tower(*padded)
    assert short.shape == (BATCH, 16)
    torch.testing.assert_close(long, short, atol=1e-5, rtol=1e-5)


def test_photometry_tower_empty_window_gives_zeros_and_finite_gradients(photometry_tower):
    times, magnitudes, mask_in = light_curve_windows()
    mask_in[1] = True  # no light curve for object 1
    pooled = photometry_tower.train()(times, magnitudes, mask_in)
    assert torch.all(pooled[1] == 0)
    pooled.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in photometry_tower.parameters())


# Multimodal model ----------------------------------------------------------


def test_model_embeddings_are_unit_vectors(model):
    present = torch.ones(BATCH, 3, dtype=torch.bool)
    embeddings = model(batch_inputs(), present)
    assert list(embeddings) == list(model.modalities) == ["photometry", "spectra", "metadata"]
    for embedding in embeddings.values():
        assert embedding.shape == (BATCH, EMBED_DIM)
        torch.testing.assert_close(embedding.norm(dim=1), torch.ones(BATCH))


def test_model_zeros_absent_rows_and_whole_absent_modalities(model):
    present = torch.ones(BATCH, 3, dtype=torch.bool)
    present[2, 1] = False
    present[:, 2] = False
    inputs = batch_inputs()
    inputs["metadata"] = None
    embeddings = model(inputs, present)
    assert torch.all(embeddings["spectra"][2] == 0)
    assert torch.all(embeddings["metadata"] == 0)
    assert embeddings["metadata"].shape == (BATCH, EMBED_DIM)


def test_model_refuses_present_modality_without_input(model):
    inputs = batch_inputs()
    inputs["spectra"] = None
    with pytest.raises(ValueError, match="'spectra'"):
        model(inputs, torch.ones(BATCH, 3, dtype=torch.bool))


def test_fuse_averages_only_available_modalities(model):
    present = torch.ones(BATCH, 3, dtype=torch.bool)
    present[0, 0] = False
    present[3] = False
    embeddings = model(batch_inputs(), present)
    fused = model.fuse(embeddings, present)
    expected = (embeddings["spectra"][0] + embeddings["metadata"][0]) / 2
    torch.testing.assert_close(fused[0], expected)
    torch.testing.assert_close(fused[1], sum(e[1] for e in embeddings.values()) / 3)
    assert torch.all(fused[3] == 0)
    # Whatever an absent row holds (even NaN) does not reach the fused vector.
    embeddings["photometry"] = embeddings["photometry"].clone()
    embeddings["photometry"][0] = float("nan")
    torch.testing.assert_close(model.fuse(embeddings, present), fused)


def test_fuse_subset_of_modalities(model):
    present = torch.ones(BATCH, 3, dtype=torch.bool)
    embeddings = model(batch_inputs(), present)
    fused = model.fuse(embeddings, present, modalities=["photometry"])
    torch.testing.assert_close(fused, embeddings["photometry"])


def test_clip_training_step_with_missing_modalities_has_finite_gradients(model):
    model.train()
    present = torch.ones(BATCH, 3, dtype=torch.bool)
    present[1, 0] = False
    present[2, 1] = False
    inputs = batch_inputs()
    inputs["photometry"][2][1] = True  # absent light curve: all padding
    loss_fn = ContrastiveLoss(3)
    loss = loss_fn(model(inputs, present), present)
    loss.backward()
    assert torch.isfinite(loss)
    for parameter in model.parameters():
        assert torch.isfinite(parameter.grad).all()


def test_tower_dims_may_be_given_explicitly():
    towers = {"metadata": MetadataEncoder(N_FEATURES, hidden_size=32)}
    model = MultimodalCLIPModel(towers, {"metadata": 32}, embed_dim=8)
    assert model.projections["metadata"].in_features == 32
    with pytest.raises(ValueError, match="tower_dims"):
        MultimodalCLIPModel(towers, {"spectra": 32})


def test_classifier_logits_shape_and_modality_subset(model):
    classifier = MultimodalClassifier(model, n_classes=5)
    present = torch.ones(BATCH, 3, dtype=torch.bool)
    present[0, 2] = False
    assert classifier(batch_inputs(), present).shape == (BATCH, 5)
    photometry_only = MultimodalClassifier(model, 5, modalities=["photometry"])
    inputs = {"photometry": light_curve_windows()}
    logits = photometry_only(inputs)
    assert logits.shape == (BATCH, 5)
    logits.sum().backward()
    assert model.projections["spectra"].weight.grad is None
    with pytest.raises(ValueError, match="Unknown modality"):
        MultimodalClassifier(model, 5, modalities=["images"])
