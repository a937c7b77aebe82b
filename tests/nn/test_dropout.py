import pytest
import torch

from sklearn_astromer.nn.dropout import Dropout


def test_drops_the_share_asked_for_and_keeps_the_expectation():
    dropout = Dropout(0.1).train()
    x = torch.ones(200, 500)
    y = dropout(x)
    kept = y != 0
    assert abs(1 - kept.float().mean().item() - 0.1) < 0.005
    torch.testing.assert_close(y[kept], torch.full((int(kept.sum()),), 1 / 0.9))


def test_masks_follow_torch_seed_and_gradients_flow():
    dropout = Dropout(0.3).train()
    torch.manual_seed(0)
    first = dropout(torch.ones(50, 50))
    torch.manual_seed(0)
    torch.testing.assert_close(dropout(torch.ones(50, 50)), first)
    x = torch.ones(10, 10, requires_grad=True)
    dropout(x).sum().backward()
    values = x.grad.unique()
    assert len(values) == 2 and values[0] == 0
    assert values[1].item() == pytest.approx(1 / 0.7)


def test_evaluation_and_edge_probabilities():
    x = torch.randn(4, 4)
    torch.testing.assert_close(Dropout(0.5).eval()(x), x)
    torch.testing.assert_close(Dropout(0.0).train()(x), x)
    assert torch.count_nonzero(Dropout(1.0).train()(x)) == 0
