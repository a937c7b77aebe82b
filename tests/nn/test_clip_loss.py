"""The n-modality CLIP loss against a numpy reference, with missing modalities."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sklearn_astromer.nn import ContrastiveLoss, modality_pairs, pairwise_clip_loss


def numpy_clip_loss(embeddings, present, log_scales):
    """The loss written out with numpy, one pair and one row at a time."""
    total = 0.0
    for k, (a, b) in enumerate(modality_pairs(len(embeddings))):
        rows = present[:, a] & present[:, b]
        first, second = embeddings[a][rows], embeddings[b][rows]
        if len(first) < 2:
            continue
        scale = min(max(math.exp(log_scales[k]), 1.0), 100.0)
        logits = scale * first @ second.T
        for matrix in (logits, logits.T):
            for i, row in enumerate(matrix):
                total -= (row[i] - np.log(np.exp(row).sum())) / len(matrix)
    return total


def random_embeddings(n_modalities, batch=6, dim=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [
        F.normalize(torch.randn(batch, dim, generator=generator, dtype=torch.float64), dim=1)
        for _ in range(n_modalities)
    ]


def as_numpy(embeddings):
    return [e.detach().numpy() for e in embeddings]


def test_two_identical_orthonormal_pairs_match_closed_form():
    # logits = s * I: each row's cross-entropy is log(1 + exp(-s)).
    embeddings = [torch.eye(2, dtype=torch.float64)] * 2
    log_scale = torch.tensor([math.log(2.0)], dtype=torch.float64)
    loss = pairwise_clip_loss(embeddings, None, log_scale)
    assert loss.item() == pytest.approx(2 * math.log(1 + math.exp(-2.0)))


@pytest.mark.parametrize("n_modalities", [2, 3])
def test_matches_numpy_reference(n_modalities):
    embeddings = random_embeddings(n_modalities)
    n_pairs = len(modality_pairs(n_modalities))
    log_scales = torch.log(torch.tensor([2.0, 7.0, 30.0][:n_pairs], dtype=torch.float64))
    present = torch.ones(6, n_modalities, dtype=torch.bool)
    present[1, -1] = False
    present[4, 0] = False
    loss = pairwise_clip_loss(embeddings, present, log_scales)
    expected = numpy_clip_loss(as_numpy(embeddings), present.numpy(), log_scales.tolist())
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_pair_order_is_documented():
    assert modality_pairs(3) == [(0, 1), (0, 2), (1, 2)]
    assert ContrastiveLoss(4).logit_scales.shape == (6,)


@pytest.mark.parametrize("order", [(1, 0, 2), (2, 1, 0), (1, 2, 0)])
def test_swapping_modality_order_gives_same_loss(order):
    embeddings = random_embeddings(3)
    present = torch.ones(6, 3, dtype=torch.bool)
    present[2, 1] = False
    loss = ContrastiveLoss(3).double()
    swapped = loss(
        [embeddings[m] for m in order], present[:, list(order)]
    )
    assert swapped.item() == pytest.approx(loss(embeddings, present).item(), rel=1e-12)


def test_swapping_two_modalities_with_distinct_scales():
    embeddings = random_embeddings(2)
    log_scale = torch.tensor([math.log(5.0)], dtype=torch.float64)
    forward = pairwise_clip_loss(embeddings, None, log_scale)
    backward = pairwise_clip_loss(embeddings[::-1], None, log_scale)
    assert forward.item() == pytest.approx(backward.item(), rel=1e-12)


def test_invariant_to_row_order():
    embeddings = random_embeddings(3)
    present = torch.ones(6, 3, dtype=torch.bool)
    present[0, 2] = False
    present[3, 1] = False
    permutation = torch.tensor([5, 2, 0, 4, 1, 3])
    loss = ContrastiveLoss(3).double()
    permuted = loss([e[permutation] for e in embeddings], present[permutation])
    assert permuted.item() == pytest.approx(loss(embeddings, present).item(), rel=1e-12)


def test_missing_row_changes_only_pairs_involving_it():
    embeddings = random_embeddings(3)
    log_scales = torch.log(torch.tensor([3.0, 10.0, 50.0], dtype=torch.float64))
    everything = torch.ones(6, 3, dtype=torch.bool)
    present = everything.clone()
    present[2, 1] = False  # object 2 lacks modality 1
    full = pairwise_clip_loss(embeddings, everything, log_scales, per_pair=True)
    partial = pairwise_clip_loss(embeddings, present, log_scales, per_pair=True)
    # Pair (0, 2) does not involve modality 1: unchanged.
    assert partial[1].item() == pytest.approx(full[1].item(), rel=1e-12)
    # Pairs with modality 1 equal the loss computed without object 2 at all.
    kept = torch.tensor([0, 1, 3, 4, 5])
    subset = pairwise_clip_loss([e[kept] for e in embeddings], None, log_scales, per_pair=True)
    assert partial[0].item() == pytest.approx(subset[0].item(), rel=1e-12)
    assert partial[2].item() == pytest.approx(subset[2].item(), rel=1e-12)
    assert partial[0].item() != pytest.approx(full[0].item())


def test_absent_rows_may_hold_nan_without_spoiling_loss_or_gradients():
    embeddings = [e.clone().requires_grad_(True) for e in random_embeddings(2)]
    present = torch.ones(6, 2, dtype=torch.bool)
    present[3, 1] = False
    with torch.no_grad():
        embeddings[1][3] = float("nan")
    loss = ContrastiveLoss(2).double()
    value = loss(embeddings, present)
    value.backward()
    assert torch.isfinite(value)
    assert all(torch.isfinite(e.grad).all() for e in embeddings)
    assert torch.all(embeddings[1].grad[3] == 0)


def test_pairs_with_fewer_than_two_common_rows_contribute_zero():
    embeddings = random_embeddings(3)
    present = torch.ones(6, 3, dtype=torch.bool)
    present[1:, 2] = False  # modality 2 only for object 0
    loss = ContrastiveLoss(3).double()
    per_pair = loss(embeddings, present, per_pair=True)
    assert per_pair[1].item() == 0.0
    assert per_pair[2].item() == 0.0
    assert per_pair[0].item() > 0.0
    per_pair.sum().backward()
    assert loss.logit_scales.grad is not None  # every scale stays in the graph


def test_gradient_flows_to_scales_and_embeddings():
    embeddings = [e.clone().requires_grad_(True) for e in random_embeddings(3)]
    loss = ContrastiveLoss(3, init_scale=10.0).double()
    loss(embeddings).backward()
    assert torch.all(loss.logit_scales.grad != 0)
    assert all(e.grad.abs().sum() > 0 for e in embeddings)


def test_clamp_bounds_the_scale_and_stops_its_gradient():
    embeddings = random_embeddings(2)
    at = {}
    for scale in (0.01, 1.0, 100.0, 1e4):
        log_scale = torch.tensor([math.log(scale)], dtype=torch.float64, requires_grad=True)
        at[scale] = pairwise_clip_loss(embeddings, None, log_scale)
        if scale in (0.01, 1e4):
            at[scale].backward()
            assert log_scale.grad.item() == 0.0
    assert at[0.01].item() == pytest.approx(at[1.0].item(), rel=1e-12)
    assert at[1e4].item() == pytest.approx(at[100.0].item(), rel=1e-12)


def test_scales_start_at_log_100():
    loss = ContrastiveLoss(3)
    assert torch.allclose(loss.logit_scales, torch.full((3,), math.log(100.0)))


@pytest.mark.parametrize(
    ("make_call", "match"),
    [
        (lambda e: pairwise_clip_loss(e, None, torch.zeros(2)), "logit scales"),
        (lambda e: pairwise_clip_loss(e, torch.ones(6, 3, dtype=torch.bool), torch.zeros(1)),
         "present"),
        (lambda e: ContrastiveLoss(3)(e), "Expected 3 embeddings"),
    ],
)
def test_clear_errors(make_call, match):
    with pytest.raises(ValueError, match=match):
        make_call(random_embeddings(2))


def test_one_modality_is_refused():
    with pytest.raises(ValueError, match="2 modalities"):
        ContrastiveLoss(1)


def test_integer_availability_mask_selects_rows_like_a_boolean_one():
    embeddings = random_embeddings(3)
    present = torch.ones(6, 3, dtype=torch.bool)
    present[2, 1] = False
    loss = ContrastiveLoss(3).double()
    as_int = loss(embeddings, present.to(torch.int64))
    assert as_int.item() == pytest.approx(loss(embeddings, present).item(), rel=1e-12)
