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
        # from_numpy shares memory; read-only arrays (e.g. np.broadcast_to) are copied first.
        t, back = torch.from_numpy(x if x.flags.writeable else x.copy()), _to_numpy
    else:
        raise TypeError(f"expected a numpy array or a torch tensor, got {type(x).__name__}")
    if not t.is_floating_point():
        raise TypeError(
            f"physics functions take floating-point intensities in [0, 1], got dtype {t.dtype}; "
            "convert integer images with polaraug.physics.to_float"
        )
    return t, back


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


def pinv(a: Array) -> Array:
    """Moore–Penrose pseudo-inverse of ``a`` (..., M, N) -> (..., N, M), computed in float64."""
    if isinstance(a, torch.Tensor):
        return torch.linalg.pinv(a.double()).to(a.dtype)
    a = np.asarray(a)
    return np.linalg.pinv(a.astype(np.float64)).astype(a.dtype if a.dtype.kind == "f" else np.float64)


def matrix64(m: Array) -> np.ndarray:
    """A small matrix (numpy or torch, any device) as a float64 numpy array."""
    if isinstance(m, torch.Tensor):
        m = m.detach().cpu().numpy()
    return np.asarray(m, dtype=np.float64)
