"""Offline image-set distances for any number of channels.

- Fréchet distance between feature statistics, with a pluggable extractor: a TorchScript file given by path
  (contract: (N, C, H, W) float in [0, 1] -> (N, D)), or by default a small network polaraug trains on the
  dataset itself (self-supervised rotation prediction). The default is a *domain* FID: comparable between
  runs on the same data and extractor, not with published Inception FIDs.
- KID: unbiased MMD² with the cubic polynomial kernel, reliable with few samples.
- Sliced Wasserstein distance (Karras et al. 2018) on 7x7 patches of a Laplacian pyramid; needs no weights.

Images are (N, C, H, W) float in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from polaraug.errors import InputError


def frechet_distance(f1: torch.Tensor, f2: torch.Tensor) -> float:
    """‖μ1 − μ2‖² + tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^½) of features (N, D), (M, D), in float64."""
    f1, f2 = f1.double(), f2.double()
    mu1, mu2 = f1.mean(0), f2.mean(0)
    c1, c2 = torch.cov(f1.T), torch.cov(f2.T)
    # Σ1 Σ2 is similar to the PSD Σ1^½ Σ2 Σ1^½: its eigenvalues are real and >= 0 (up to rounding)
    tr_sqrt = torch.linalg.eigvals(c1 @ c2).real.clamp(min=0).sqrt().sum()
    return float(((mu1 - mu2) ** 2).sum() + torch.trace(c1) + torch.trace(c2) - 2 * tr_sqrt)


def kernel_inception_distance(f1: torch.Tensor, f2: torch.Tensor, subset: int = 100, subsets: int = 50,
                              seed: int = 0) -> float:
    """Mean unbiased MMD² over random subsets, kernel k(x, y) = (x·y / D + 1)³."""
    f1, f2 = f1.double(), f2.double()
    n = min(subset, len(f1), len(f2))
    if n < 2:
        raise ValueError("KID needs at least 2 samples per set")
    gen = torch.Generator().manual_seed(seed)
    d = f1.shape[1]
    total = 0.0
    for _ in range(subsets):
        x = f1[torch.randperm(len(f1), generator=gen)[:n]]
        y = f2[torch.randperm(len(f2), generator=gen)[:n]]
        kxx, kyy, kxy = ((x @ x.T) / d + 1) ** 3, ((y @ y.T) / d + 1) ** 3, ((x @ y.T) / d + 1) ** 3
        off = 1 - torch.eye(n, dtype=torch.float64)
        total += float((kxx * off).sum() / (n * (n - 1)) + (kyy * off).sum() / (n * (n - 1)) - 2 * kxy.mean())
    return total / subsets


def _patches(x: torch.Tensor, idx: torch.Tensor, size: int = 7) -> torch.Tensor:
    """(N·P, C·size²) patches of (N, C, H, W) at flat positions ``idx`` (N, P)."""
    cols = F.unfold(x, size)  # (N, C·size², L)
    return torch.gather(cols, 2, idx[:, None, :].expand(-1, cols.shape[1], -1)).permute(0, 2, 1).reshape(
        -1, cols.shape[1])


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, levels: int = 3, per_image: int = 64,
                       projections: int = 256, seed: int = 0) -> float:
    """Mean over pyramid levels of the sliced Wasserstein distance between patch sets (×10³, as in
    Karras et al.). Sets must have equal sizes."""
    from kornia.geometry.transform import build_laplacian_pyramid

    if a.shape[0] != b.shape[0]:
        raise ValueError("sliced_wasserstein: both sets need the same number of images")
    levels = max(1, min(levels, int(torch.log2(torch.tensor(min(a.shape[-2:]) / 8.0)).item()) + 1))
    pa = build_laplacian_pyramid(a.float(), levels)
    pb = build_laplacian_pyramid(b.float(), levels)
    gen = torch.Generator().manual_seed(seed)
    dists = []
    for la, lb in zip(pa, pb, strict=True):
        n_pos = (la.shape[-2] - 6) * (la.shape[-1] - 6)
        idx = torch.randint(0, n_pos, (la.shape[0], per_image), generator=gen)  # same positions in both sets
        xa, xb = _patches(la, idx), _patches(lb, idx)
        mean, std = xa.mean(0), xa.std(0).clamp(min=1e-8)  # normalise by the reference set
        xa, xb = (xa - mean) / std, (xb - mean) / std
        dirs = F.normalize(torch.randn(xa.shape[1], projections, generator=gen), dim=0)
        sa, _ = torch.sort(xa @ dirs, dim=0)
        sb, _ = torch.sort(xb @ dirs, dim=0)
        dists.append(float((sa - sb).abs().mean()) * 1e3)
    return sum(dists) / len(dists)


class FeatureNet(nn.Module):
    """Small CNN: (N, C, H, W) in [0, 1] -> (N, 128) features (global average pool); a 4-way head predicts
    the image's quarter-turn rotation during self-supervised training."""

    def __init__(self, channels: int):
        super().__init__()
        layers: list[nn.Module] = []
        ch = channels
        for out in (32, 64, 128):
            layers += [nn.Conv2d(ch, out, 3, stride=2, padding=1), nn.BatchNorm2d(out), nn.ReLU(True)]
            ch = out
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x * 2 - 1)


def train_feature_net(images: torch.Tensor, steps: int = 300, batch: int = 32, seed: int = 0) -> FeatureNet:
    """Self-supervised rotation prediction on ``images`` (N, C, H, W) in [0, 1] (square crops); returns the
    network in eval mode (calling it gives features)."""
    if images.shape[-1] != images.shape[-2]:
        raise ValueError("feature-net training needs square crops")
    torch.manual_seed(seed)
    net = FeatureNet(images.shape[1])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(steps):
        x = images[torch.randint(0, len(images), (batch,), generator=gen)]
        k = torch.randint(0, 4, (batch,), generator=gen)
        x = torch.stack([torch.rot90(xi, int(ki), dims=(1, 2)) for xi, ki in zip(x, k, strict=True)])
        loss = F.cross_entropy(net.head(net(x)), k)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval()


def load_feature_net(path: str | Path) -> torch.jit.ScriptModule:
    """A TorchScript extractor from a local file (nothing is downloaded); errors name the file."""
    path = Path(path)
    try:
        net = torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError, OSError) as e:
        raise InputError(f"{path}: not a loadable TorchScript feature extractor ({e})") from None
    return net.eval()


@torch.no_grad()
def features(net: nn.Module, images: torch.Tensor, batch: int = 64) -> torch.Tensor:
    out = [net(images[i:i + batch].float()) for i in range(0, len(images), batch)]
    return torch.cat(out).flatten(1)
