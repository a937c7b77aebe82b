import torch

from sklearn_astromer.nn import AstromerClassifierModel, AstromerEncoder, LayerWeightedClassifier
from sklearn_astromer.nn.heads import masked_mean


def test_masked_mean_ignores_padding():
    embeddings = torch.tensor([[[1.0], [3.0], [100.0]]])
    valid = torch.tensor([[True, True, False]])
    torch.testing.assert_close(masked_mean(embeddings, valid), torch.tensor([[2.0]]))


def test_layer_weights_start_equal_and_learn():
    head = LayerWeightedClassifier(3, 4, n_classes=2, hidden=(8,), dropout=0.0)
    pooled = torch.randn(5, 3, 4)
    torch.testing.assert_close(head.combine(pooled), pooled.mean(dim=1))
    torch.nn.functional.cross_entropy(head(pooled), torch.tensor([0, 1, 0, 1, 1])).backward()
    assert head.layer_logits.grad is not None and head.layer_logits.grad.abs().sum() > 0


def test_classifier_model_shares_the_encoder_and_ignores_padding():
    encoder = AstromerEncoder(d_model=16, n_layers=2, n_heads=2, d_ff=16)
    model = AstromerClassifierModel(encoder, LayerWeightedClassifier(3, 16, 4)).eval()
    assert model.encoder is encoder
    times, magnitudes = torch.randn(2, 7) * 10, torch.randn(2, 7)
    mask = torch.zeros(2, 7, dtype=torch.bool)
    logits = model(times, magnitudes, mask)
    padded = model(torch.cat([times, torch.zeros(2, 3)], 1),
                   torch.cat([magnitudes, torch.full((2, 3), 9.0)], 1),
                   torch.cat([mask, torch.ones(2, 3, dtype=torch.bool)], 1))
    assert logits.shape == (2, 4)
    torch.testing.assert_close(padded, logits, atol=1e-5, rtol=0)


def test_head_input_statistics_standardise_each_layer_and_column():
    head = LayerWeightedClassifier(2, 3, n_classes=2)
    torch.testing.assert_close(head.combine(torch.ones(1, 2, 3)), torch.ones(1, 3))
    pooled = torch.randn(50, 2, 3, dtype=torch.float64) * torch.tensor([1.0, 3.0, 0.5]) + 5
    pooled[:, 1, 2] = 7.0  # a constant column is centred, not blown up
    head.set_input_statistics(pooled)
    standardised = (pooled - head.input_mean) / head.input_scale
    torch.testing.assert_close(standardised.mean(dim=0), torch.zeros(2, 3, dtype=torch.float64),
                               atol=1e-5, rtol=0)
    spread = standardised[:, 0].std(dim=0, correction=0)
    torch.testing.assert_close(spread, torch.ones(3, dtype=torch.float64), rtol=1e-5, atol=0)
    assert torch.all(standardised[:, 1, 2] == 0)
    assert set(head.state_dict()) >= {"input_mean", "input_scale"}
