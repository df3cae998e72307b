"""The out-of-distribution model: a (PatchGAN) discriminator on a frame's intensities and how its outputs
become a score in [0, 1] (0: like the real frames it was trained on, 1: like the generated ones).

Frames are read like every stage reads them (:func:`polaraug.io.capture.capture_from_array`: bit depth,
DoFP demosaicing, the camera's gain map) and scored whole: the discriminator is fully convolutional, and a
frame's score is the mean over its patches.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from polaraug.cameras import Camera
from polaraug.data.polarset import PolarImage
from polaraug.errors import ConfigError
from polaraug.io.atomic import atomic_path
from polaraug.io.capture import capture_from_array
from polaraug.io.checkpoints import CheckpointError, load_state
from polaraug.nn import build_discriminator, min_input_side

FORMAT = "polaraug-ood/1"
KINDS = ("bce", "lsgan", "vanilla", "wgan-gp")  # bce: a classifier trained here; the others: exported GAN critics


@dataclass
class OODModel:
    """A discriminator and the kind of outputs it gives.

    Attributes:
        d: maps intensities (B, 4, H, W) in [-1, 1] to per-scale patch maps (``outputs``).
        kind: ``bce``/``vanilla`` (logits: realness σ(D)), ``lsgan`` (D ≈ 1 real, 0 generated) or
            ``wgan-gp`` (an unbounded critic: the score is −D, not in [0, 1]).
        arch: ``ndf``, ``n_layers``, ``d_scales`` (to rebuild ``d``).
        source: what it was trained on (shown in reports).
    """

    d: nn.Module
    kind: str
    arch: dict
    source: str = ""

    @property
    def min_side(self) -> int:
        """The smallest frame side the discriminator can judge (smaller frames are not scored)."""
        return min_input_side(self.arch["n_layers"], self.arch["d_scales"])

    @torch.no_grad()
    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x (B, 4, H, W) intensities in [-1, 1]. Returns: (B,) scores, high = unlike the real domain."""
        outs = self.d.outputs(x)
        if self.kind in ("bce", "vanilla"):
            real = [torch.sigmoid(o) for o in outs]
        elif self.kind == "lsgan":
            real = [o.clamp(0, 1) for o in outs]
        else:  # a Wasserstein critic: higher = more real, unbounded
            return -torch.stack([o.mean((1, 2, 3)) for o in outs]).mean(0)
        return 1 - torch.stack([r.mean((1, 2, 3)) for r in real]).mean(0)


def build_ood(kind: str, ndf: int = 32, n_layers: int = 3, d_scales: int = 1, source: str = "") -> OODModel:
    """A new (untrained) model. Raises ConfigError for an unknown kind."""
    if kind not in KINDS:
        raise ConfigError(f"OOD model kind must be one of {KINDS}, got {kind!r}")
    arch = {"ndf": ndf, "n_layers": n_layers, "d_scales": d_scales}
    return OODModel(build_discriminator(4, ndf, n_layers, d_scales), kind, arch, source)


def save_ood(model: OODModel, path: str | os.PathLike) -> Path:
    """Write the model (weights, kind, architecture, source) atomically."""
    state = {"format": FORMAT, "kind": model.kind, "arch": model.arch, "source": model.source,
             "d": model.d.state_dict()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_ood(path: str | os.PathLike, device: str | torch.device = "cpu") -> OODModel:
    """The model of an OOD file, in eval mode on ``device``; errors name the file."""
    state = load_state(path, FORMAT, "out-of-distribution model")
    model = build_ood(state["kind"], source=state.get("source", ""), **state["arch"])
    try:
        model.d.load_state_dict(state["d"])
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not fit: {str(e).splitlines()[0]}") from None
    model.d.to(device).eval()
    return model


def frame_tensor(frame: PolarImage, camera: Camera) -> torch.Tensor:
    """A frame's intensities as (1, 4, H, W) in [-1, 1] (the translator's and discriminators' units)."""
    cap = capture_from_array(frame.read(), camera, path=frame.paths[0])
    return torch.from_numpy(cap.intensities).float().permute(2, 0, 1)[None] * 2 - 1


def score_frames(model: OODModel, frames: list[PolarImage], camera: Camera, *, device: str | None = None,
                 progress: bool = False) -> list[float | None]:
    """Each frame's score (None for a frame that cannot be read or is too small for the discriminator).

    Args:
        model: the OOD model.
        frames: the frames, in report order.
        camera: their camera.
        device: torch device name (default: CUDA when present).
        progress: show a progress bar.

    Returns:
        One score per frame.
    """
    from tqdm import tqdm

    from polaraug.engine import pick_device

    dev = pick_device(device)
    model.d.to(dev)
    out: list[float | None] = []
    for f in tqdm(frames, disable=not progress, unit="frame", desc="ood"):
        try:
            x = frame_tensor(f, camera)
        except (ValueError, OSError):
            out.append(None)  # the statistics pass reports why
            continue
        out.append(float(model.score(x.to(dev))[0]) if min(x.shape[-2:]) >= model.min_side else None)
    return out
