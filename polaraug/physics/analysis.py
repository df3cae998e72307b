"""One fused pass from intensities to every polarimetric map a validator or viewer needs."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from . import _kernels
from ._backend import Array, apply_matrix, as_matrix, channel_dim, check_channels, pinv, planes, to_tensor
from ._memory import empty_large
from .cone import DEFAULT_TOLERANCE, violation_planes
from .stokes import aolp_planes, dolp_planes

CHUNK_PIXELS = 1 << 17  # temporaries of 512 KiB (float32) stay in cache and are recycled by the allocator


@dataclass
class PolarizationMaps:
    """Results of :func:`analyze`; arrays are of the input's kind (numpy or torch).

    stokes: (..., 3, ...) on the input's channel axis; dolp, aolp, violation: (..., ...) without it;
    inadmissible_fraction: share of pixels with violation > tol.
    """

    stokes: Array
    dolp: Array
    aolp: Array
    violation: Array
    inadmissible_fraction: float


def analyze(
    y: Array, a: Array, tol: float = DEFAULT_TOLERANCE, dim: int | None = None, out: PolarizationMaps | None = None
) -> PolarizationMaps:
    """Stokes (A† y), DoLP, AoLP, signed cone violation ``||(s1, s2)|| - s0`` and inadmissible fraction.

    y: intensities, numpy (..., 4) or torch (B, 4, H, W); a: calibration matrix (4, 3).
    Channels-last input on the CPU that needs no gradient takes a chunked path (temporaries stay in
    cache); everything else takes the differentiable path. ``out``: the result of an earlier call on a
    frame of the same shape and dtype (chunked path only), whose arrays are overwritten: a loop over many
    frames then pays no page faults for fresh output memory.
    """
    t, back = to_tensor(y)
    d = channel_dim(y, dim) % max(t.ndim, 1)
    check_channels(t, d, 4, "analyze")
    a_pinv = pinv(a)
    needs_grad = torch.is_grad_enabled() and (t.requires_grad or getattr(a, "requires_grad", False))
    if d == t.ndim - 1 and t.device.type == "cpu" and not needs_grad and t.dtype in (torch.float32, torch.float64):
        s, dl, ao, viol, n_bad = _analyze_chunked(t, as_matrix(a_pinv, t), tol, out)
    elif out is not None:
        raise ValueError("analyze(out=...) needs channels-last CPU float input that requires no gradient")
    else:
        s = apply_matrix(a_pinv, t, d)
        s0, s1, s2 = planes(s, d)
        viol = violation_planes(s0, s1, s2)
        dl, ao = dolp_planes(s0, s1, s2), aolp_planes(s1, s2)
        n_bad = int((~(viol <= tol)).sum())  # NaN counts as inadmissible
    frac = n_bad / max(viol.numel(), 1)
    return PolarizationMaps(back(s), back(dl), back(ao), back(viol), frac)


def _outputs(shape: torch.Size, dtype: torch.dtype, out: PolarizationMaps | None) -> list[torch.Tensor]:
    """Flat output tensors (N, 3), (N,), (N,), (N,): fresh, or views of ``out``'s arrays (checked)."""
    n_pix = int(np.prod(shape))
    if out is None:  # one block for all four, on huge pages when large (page faults cost more than the maths)
        block = empty_large(6 * n_pix, dtype)
        return [block[:3 * n_pix].view(n_pix, 3)] + [block[k * n_pix:(k + 1) * n_pix] for k in (3, 4, 5)]
    bufs = [torch.as_tensor(x) for x in (out.stokes, out.dolp, out.aolp, out.violation)]
    want = [(*shape, 3), tuple(shape), tuple(shape), tuple(shape)]
    if [tuple(b.shape) for b in bufs] != want or any(b.dtype != dtype or not b.is_contiguous() for b in bufs):
        raise ValueError(f"analyze(out=...) must come from a frame of the same shape {tuple(shape)} and dtype {dtype}")
    return [bufs[0].view(n_pix, 3)] + [b.view(n_pix) for b in bufs[1:]]


@torch.no_grad()
def _analyze_chunked(t: torch.Tensor, a_pinv: torch.Tensor, tol: float, out: PolarizationMaps | None):
    """Channels-last CPU fast path of :func:`analyze`; same formulas, written chunk by chunk into outputs."""
    shape = t.shape[:-1]
    flat = t.reshape(-1, 4)
    n_pix = flat.shape[0]
    s, dl, ao, viol = _outputs(shape, t.dtype, out)
    if _kernels.available():
        return _analyze_compiled(flat, a_pinv, tol, shape, s, dl, ao, viol)
    p_t = a_pinv.T.contiguous()
    n_bad = 0
    for i in range(0, n_pix, CHUNK_PIXELS):
        sl = slice(i, min(i + CHUNK_PIXELS, n_pix))
        torch.mm(flat[sl], p_t, out=s[sl])
        c0, c1, c2 = s[sl].unbind(1)
        s0, ns1, ns2 = c0, torch.neg(c1), torch.neg(c2)  # negated contiguous planes for atan2/hypot
        n = torch.hypot(ns1, ns2)
        torch.sub(n, s0, out=viol[sl])
        n_bad += (sl.stop - sl.start) - int(torch.count_nonzero(viol[sl] <= tol))  # NaN counts as bad
        torch.div(n, s0, out=dl[sl]).masked_fill_(s0 <= 0, 0.0)  # DoLP := 0 where s0 <= 0 (NaN stays)
        # ½ atan2(s2, s1) mod π = ½ (atan2(-s2, -s1) + π) mod π, and the latter lies in [0, π] before the
        # remainder: no sign fix-ups (-0.0, rounding up to π) are needed.
        torch.atan2(ns2, ns1, out=ao[sl]).add_(math.pi).mul_(0.5).remainder_(math.pi)
    return s.reshape(*shape, 3), dl.reshape(shape), ao.reshape(shape), viol.reshape(shape), n_bad


def _analyze_compiled(flat: torch.Tensor, a_pinv: torch.Tensor, tol: float, shape: torch.Size, s: torch.Tensor,
                      dl: torch.Tensor, ao: torch.Tensor, viol: torch.Tensor):
    """:func:`_analyze_chunked` with one compiled pass per chunk (see :mod:`._kernels`) and torch's atan2.

    Args:
        flat: (N, 4) intensities; a_pinv: (3, 4); s, dl, ao, viol: the flat outputs (N, 3), (N,) ×3.

    Returns:
        As :func:`_analyze_chunked`.
    """
    stokes_pass, cone_pass, finish = (_kernels.kernel(k) for k in ("stokes_pass", "cone_pass", "aolp_finish"))
    y = flat.contiguous().numpy()
    p = a_pinv.to(flat.dtype).contiguous().numpy()
    s_np, dl_np, ao_np, viol_np = s.numpy(), dl.numpy(), ao.numpy(), viol.numpy()
    scratch = torch.empty(3, min(CHUNK_PIXELS, y.shape[0]), dtype=flat.dtype)
    planes_np = scratch.numpy()
    tol, pi = y.dtype.type(tol), y.dtype.type(math.pi)
    n_bad = 0
    for i in range(0, y.shape[0], CHUNK_PIXELS):
        j = min(i + CHUNK_PIXELS, y.shape[0])
        s0, ns1, ns2 = planes_np[:, : j - i]
        stokes_pass(y[i:j], p, s_np[i:j], s0, ns1, ns2)
        n_bad += cone_pass(s0, ns1, ns2, tol, viol_np[i:j], dl_np[i:j])
        torch.atan2(scratch[2, : j - i], scratch[1, : j - i], out=ao[i:j])
        finish(ao_np[i:j], pi)
    return s.reshape(*shape, 3), dl.reshape(shape), ao.reshape(shape), viol.reshape(shape), n_bad
