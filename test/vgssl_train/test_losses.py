"""Each loss against a direct (looped) formula on small tensors, symmetry where it holds, and the registry."""

from __future__ import annotations

import math

import pytest
import torch

from vgssl_train.losses import BarlowTwinsLoss, InfoNCELoss, NegativeCosineLoss, TripletLoss, VICRegLoss


@pytest.fixture
def pair():
    g = torch.Generator().manual_seed(0)
    return torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)


def _cos(u, v):
    u, v = u.detach(), v.detach()
    return float(u @ v / (u.norm() * v.norm()))


def test_info_nce_matches_nt_xent_formula(pair):
    a, b = pair
    t = 0.07
    z = torch.cat([a, b])
    n = len(a)
    terms = []
    for i in range(2 * n):
        j = (i + n) % (2 * n)
        others = [math.exp(_cos(z[i], z[k]) / t) for k in range(2 * n) if k != i]
        terms.append(-math.log(math.exp(_cos(z[i], z[j]) / t) / sum(others)))
    assert InfoNCELoss(t)(a, b).item() == pytest.approx(sum(terms) / len(terms), rel=1e-5)
    assert InfoNCELoss(t)(a, b).item() == pytest.approx(InfoNCELoss(t)(b, a).item(), rel=1e-6)


def test_info_nce_with_queue_matches_moco_formula(pair):
    a, b = pair
    queue = torch.randn(4, 5, generator=torch.Generator().manual_seed(1))
    t = 0.2
    terms = []
    for i in range(len(a)):
        pos = math.exp(_cos(a[i], b[i]) / t)
        neg = sum(math.exp(_cos(a[i], k) / t) for k in queue)
        terms.append(-math.log(pos / (pos + neg)))
    assert InfoNCELoss(t)(a, b, queue=queue).item() == pytest.approx(sum(terms) / len(terms), rel=1e-5)


def test_info_nce_rewards_aligned_pairs(pair):
    a, b = pair
    assert InfoNCELoss()(a, a + 0.01 * b).item() < InfoNCELoss()(a, b).item()
    with pytest.raises(ValueError, match="temperature"):
        InfoNCELoss(0.0)


def test_negative_cosine_formula_and_stop_gradient(pair):
    a, b = pair
    b = b.clone().requires_grad_(True)
    loss = NegativeCosineLoss()(a.requires_grad_(True), b)
    expected = -sum(_cos(a[i], b[i]) for i in range(len(a))) / len(a)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    loss.backward()
    assert b.grad is None and a.grad is not None


def test_barlow_twins_matches_looped_formula(pair):
    a, b = pair
    lam = 0.0051
    na = (a - a.mean(0)) / a.std(0)
    nb = (b - b.mean(0)) / b.std(0)
    n, d = a.shape
    expected = 0.0
    for i in range(d):
        for j in range(d):
            c = float(sum(na[k, i] * nb[k, j] for k in range(n)) / n)
            expected += (1 - c) ** 2 if i == j else lam * c**2
    loss = BarlowTwinsLoss(lam)
    assert loss(a, b).item() == pytest.approx(expected, rel=1e-4)
    assert loss(a, b).item() == pytest.approx(loss(b, a).item(), rel=1e-5)
    with pytest.raises(ValueError, match="at least 2"):
        loss(a[:1], b[:1])


def test_vicreg_matches_formula(pair):
    a, b = pair
    n, d = a.shape

    def var(z):
        return sum(max(0.0, 1 - math.sqrt(float(z[:, j].var()) + 1e-4)) for j in range(d)) / d / 2

    def cov(z):
        zc = z - z.mean(0)
        c = zc.T @ zc / (n - 1)
        return sum(float(c[i, j]) ** 2 for i in range(d) for j in range(d) if i != j) / d

    mse = float(((a - b) ** 2).mean())
    expected = 25 * mse + 25 * (var(a) + var(b)) + 1 * (cov(a) + cov(b))
    assert VICRegLoss()(a, b).item() == pytest.approx(expected, rel=1e-5)
    assert VICRegLoss()(a, b).item() == pytest.approx(VICRegLoss()(b, a).item(), rel=1e-6)


def test_triplet_matches_formula(pair):
    a, p = pair
    negs = torch.randn(6, 2, 5, generator=torch.Generator().manual_seed(2))
    m = 0.1
    expected = (
        sum(max(0.0, float((a[i] - p[i]).norm() - (a[i] - negs[i, k]).norm()) + m) for i in range(6) for k in range(2))
        / 12
    )
    assert TripletLoss(m)(a, p, negs).item() == pytest.approx(expected, rel=1e-5)
    assert TripletLoss(m)(a, a, negs + 100).item() == 0.0


def test_defaults_are_the_papers():
    assert InfoNCELoss().temperature == 0.07
    assert BarlowTwinsLoss().lambda_offdiag == 0.0051
    assert TripletLoss().margin == 0.1
    v = VICRegLoss()
    assert (v.sim_weight, v.std_weight, v.cov_weight) == (25.0, 25.0, 1.0)


def test_barlow_twins_eps_is_added_to_the_std():
    g = torch.Generator().manual_seed(3)
    a, b = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    eps = 0.5
    na, nb = (a - a.mean(0)) / (a.std(0) + eps), (b - b.mean(0)) / (b.std(0) + eps)
    c = na.T @ nb / 4
    expected = ((1 - torch.diagonal(c)) ** 2).sum() + 0.01 * ((c**2).sum() - (torch.diagonal(c) ** 2).sum())
    assert BarlowTwinsLoss(0.01, eps=eps)(a, b).item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize(
    "loss,message",
    [
        (BarlowTwinsLoss(), "^Barlow Twins needs at least 2 samples per batch to standardise features$"),
        (VICRegLoss(), "^VICReg needs at least 2 samples per batch for its variance term$"),
    ],
)
def test_two_samples_are_enough_and_one_is_refused(pair, loss, message):
    a, b = pair
    assert math.isfinite(loss(a[:2], b[:2]).item())
    with pytest.raises(ValueError, match=message):
        loss(a[:1], b[:1])
