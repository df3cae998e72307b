"""Array plumbing shared by the physics functions: one implementation for numpy and torch.

Every physics function accepts a numpy array or a torch tensor and returns the same kind. numpy input is
viewed as a tensor without copying (``torch.from_numpy``), computed in torch (vectorised, multi-threaded,
differentiable) and handed back as numpy. Channel-axis defaults follow CONVENTIONS.md: numpy images are
channels-last ``(H, W, C)``, torch tensors channels-first ``(B, C, H, W)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

Array = Any  # np.ndarray | torch.Tensor; kept loose so the docstrings carry the shapes.


def to_tensor(x: Array) -> tuple[torch.Tensor, Callable[[torch.Tensor], Array]]:
    """View ``x`` as a floating tensor and return a function that hands results back in ``x``'s kind.

    Raises TypeError for integer data: physics works on intensities in [0, 1] (see ``to_float``).
    """
    if isinstance(x, torch.Tensor):
        t, back = x, _identity
    elif isinstance(x, np.ndarray):
        t, back = torch.from_numpy(_torch_compatible(x)), _to_numpy
    else:
        raise TypeError(f"expected a numpy array or a torch tensor, got {type(x).__name__}")
    if not t.is_floating_point():
        raise TypeError(
            f"physics functions take floating-point intensities in [0, 1], got dtype {t.dtype}; "
            "convert integer images with polaraug.physics.to_float"
        )
    return t, back


def _torch_compatible(x: np.ndarray) -> np.ndarray:
    """``x`` itself when torch can share its memory, else a native-order contiguous copy.

    torch cannot view read-only arrays (np.broadcast_to), negative strides (img[:, ::-1], i.e. every
    flip) or non-native byte order (big-endian files).
    """
    if x.flags.writeable and x.dtype.isnative and all(s >= 0 for s in x.strides):
        return x
    return np.ascontiguousarray(x, dtype=x.dtype.newbyteorder("="))


def _identity(t: torch.Tensor) -> torch.Tensor:
    return t


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def channel_dim(x: Array, dim: int | None) -> int:
    """Resolve the channel axis: ``dim`` if given, else -1 for numpy and -3 for torch (CONVENTIONS.md)."""
    if dim is not None:
        return dim
    return -1 if isinstance(x, np.ndarray) else -3


def check_channels(t: torch.Tensor, dim: int, n: int, what: str) -> None:
    """Raise ValueError unless axis ``dim`` of ``t`` has ``n`` entries."""
    if t.ndim == 0 or not -t.ndim <= dim < t.ndim or t.shape[dim] != n:
        raise ValueError(
            f"{what} needs {n} channels on axis {dim}, got shape {tuple(t.shape)}; "
            "numpy arrays are channels-last (H, W, C), torch tensors channels-first (B, C, H, W)"
        )


def planes(t: torch.Tensor, dim: int) -> list[torch.Tensor]:
    """Split ``t`` along ``dim`` into contiguous planes.

    Contiguity matters: torch's vectorised atan2/hypot kernels are ~15x slower on strided views.
    """
    return [p.contiguous() for p in t.unbind(dim)]


def as_matrix(m: Array, like: torch.Tensor) -> torch.Tensor:
    """``m`` as a tensor with ``like``'s dtype and device (keeps autograd if ``m`` is a tensor)."""
    return torch.as_tensor(m).to(dtype=like.dtype, device=like.device)


def apply_matrix(m: Array, t: torch.Tensor, dim: int) -> torch.Tensor:
    """Apply the matrix ``m`` (K, C) to the channel axis ``dim`` of ``t`` (..., C, ...) -> (..., K, ...)."""
    dim = dim % t.ndim
    mt = as_matrix(m, t)
    if dim == t.ndim - 1 and t.device.type == "cpu" and not (t.requires_grad or mt.requires_grad):
        # numpy's GEMM is ~2.5x faster than torch's for this tall-skinny (N, 4) x (4, K) product.
        flat = t.reshape(-1, t.shape[-1]).numpy()
        out = np.dot(flat, mt.numpy().T)
        return torch.from_numpy(out).reshape(*t.shape[:-1], mt.shape[0])
    out = torch.tensordot(mt, t, dims=([1], [dim]))  # (K, ...rest)
    return torch.movedim(out, 0, dim).contiguous()


# Largest cond(A) for which pinv solves the normal equations. Their error grows like eps·cond(A)², the SVD's
# like eps·cond(A): measured on 3000 random cameras (angle errors, gain spread, ER from 1 + 1e-5 to 1e4),
# the normal equations are as accurate as np.linalg.pinv up to cond ~30 (median error ratio <= 1), then
# fall behind (median 1.3x, worst 27x at cond 1e2-1e3; worst 1000x at 1e4-1e6). Real cameras have
# cond(A) ~ 1.4-3 (the ideal one √2; ER 5 with ±5° and ±20% gain errors: <= 2.8); cond reaches 10 only
# for extinction ratios below ~1.5 (ER 2: ~5).
NORMAL_EQUATIONS_MAX_COND = 10.0


def pinv(a: Array) -> Array:
    """Moore–Penrose pseudo-inverse of ``a`` (..., M, N) -> (..., N, M) in float64.

    It stays float64 (``as_matrix`` casts it to the data's dtype later), so float64 data keeps full
    precision even when A was built as float32. For a well-conditioned A of full column rank (every
    usable camera: cond(A) < NORMAL_EQUATIONS_MAX_COND) A† = (AᵀA)⁻¹Aᵀ, solved directly: exact for the
    ideal camera, where the SVD route leaves 1e-16 crumbs that turn grey pixels' AoLP into π/2. The
    normal equations square the condition number, so ill-conditioned (and rank-deficient) A, e.g.
    extinction ratios near 1, take the SVD route, as accurate as np.linalg.pinv because it is that.
    numpy and torch take the same route for the same A; the torch one keeps autograd.
    """
    if isinstance(a, torch.Tensor):
        a64 = a.double()
        if a64.shape[-2] >= a64.shape[-1] and bool(
            (torch.linalg.cond(a64.detach()) < NORMAL_EQUATIONS_MAX_COND).all()
        ):
            return torch.linalg.solve(a64.mT @ a64, a64.mT)
        return torch.linalg.pinv(a64)
    a64 = np.asarray(a, dtype=np.float64)
    if a64.shape[-2] >= a64.shape[-1] and np.all(np.linalg.cond(a64) < NORMAL_EQUATIONS_MAX_COND):
        return np.linalg.solve(np.swapaxes(a64, -1, -2) @ a64, np.swapaxes(a64, -1, -2))
    return np.linalg.pinv(a64)


def double(m: Array) -> Array:
    """A small matrix as float64, numpy or torch as given (keeps autograd for torch)."""
    return m.double() if isinstance(m, torch.Tensor) else np.asarray(m, dtype=np.float64)


def matrix64(m: Array) -> np.ndarray:
    """A small matrix (numpy or torch, any device) as a float64 numpy array."""
    if isinstance(m, torch.Tensor):
        m = m.detach().cpu().numpy()
    return np.asarray(m, dtype=np.float64)
