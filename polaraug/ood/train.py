"""Training an OOD model, exporting one from a translator, and measuring how well it separates real from
generated frames (ROC AUC on held-out frames).

Training is a binary classifier (the vanilla GAN discriminator loss, without a generator): crops of real
frames against crops of generated ones. Several generated sets (e.g. translations by checkpoints from
different points of a translator's training) form the history of generated samples HistoryAD trains on, so
the score does not only recognise the last generator's artefacts. A CycleGAN translator's polarimetric
discriminator, trained against an image pool of its past outputs, is such a model already:
:func:`export_from_translator` saves it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from polaraug.cameras import Camera
from polaraug.data.polarset import PolarImage
from polaraug.engine import pick_device
from polaraug.errors import ConfigError, InputError
from polaraug.io.checkpoints import CheckpointError
from polaraug.nn import min_input_side, vanilla

from .model import OODModel, build_ood, frame_tensor, score_frames


@dataclass(frozen=True)
class OODSettings:
    """Classifier training settings (steps of ``batch`` crops, half real, half generated)."""

    steps: int = 600
    crop: int = 64
    batch: int = 16
    lr: float = 2e-4
    ndf: int = 32
    n_layers: int = 3
    max_frames: int = 256  # per set, read once into memory
    holdout: float = 0.2  # the last share of each set's frames: never trained on, scored for the AUC
    seed: int = 0

    def __post_init__(self) -> None:
        side = min_input_side(self.n_layers)
        if self.steps < 1 or self.batch < 2 or self.crop < side or self.max_frames < 1:
            raise ConfigError(f"OOD settings: steps >= 1, batch >= 2, crop >= {side}, max_frames >= 1 needed")
        if not 0 < self.holdout < 1:
            raise ConfigError(f"OOD settings: holdout must be in (0, 1), got {self.holdout}")


def split(frames: list[PolarImage], holdout: float) -> tuple[list[PolarImage], list[PolarImage]]:
    """(training frames, held-out frames): the last ``holdout`` share is held out (at least one of each)."""
    if len(frames) < 2:
        raise InputError(f"need at least 2 frames per set (one to train on, one held out), found {len(frames)}")
    k = min(len(frames) - 1, max(1, round(len(frames) * holdout)))
    return frames[:-k], frames[-k:]


def _load(frames: list[PolarImage], camera: Camera, crop: int, limit: int, rng: np.random.Generator,
          where: str) -> list[torch.Tensor]:
    """Up to ``limit`` frames (drawn at random) as (4, H, W) tensors, skipping frames smaller than ``crop``."""
    pick = rng.permutation(len(frames))[:limit]
    # float16 halves the memory of whole frames held for cropping (inputs are [-1, 1]: 1e-3 resolution)
    out = [t.half() for t in (frame_tensor(frames[i], camera)[0] for i in sorted(pick)) if min(t.shape[-2:]) >= crop]
    if not out:
        raise InputError(f"{where}: no frame of at least {crop}x{crop} pixels to train on")
    return out


def _crops(pool: list[torch.Tensor], n: int, crop: int, rng: np.random.Generator) -> torch.Tensor:
    """``n`` random crops (n, 4, crop, crop) from random frames of ``pool``."""
    out = []
    for i in rng.integers(0, len(pool), n):
        t = pool[int(i)]
        y = int(rng.integers(0, t.shape[1] - crop + 1))
        x = int(rng.integers(0, t.shape[2] - crop + 1))
        out.append(t[:, y:y + crop, x:x + crop])
    return torch.stack(out).float()


def roc_auc(real: list[float], generated: list[float]) -> float:
    """P(score of a generated frame > score of a real one), ties counted half (Mann–Whitney U / n₁n₂)."""
    from scipy.stats import mannwhitneyu

    if not real or not generated:
        raise ValueError("ROC AUC needs scores of both classes")
    return float(mannwhitneyu(generated, real).statistic / (len(real) * len(generated)))


def separation(model: OODModel, real: tuple[list[PolarImage], Camera],
               generated: list[tuple[list[PolarImage], Camera]], device: str | None = None) -> dict:
    """How well ``model`` separates real from generated frames.

    Args:
        model: the OOD model.
        real: (frames, camera) of real frames.
        generated: per generated set, (frames, camera).
        device: torch device name.

    Returns:
        ``auc`` (ROC AUC, 0.5 = chance), mean scores of each class and the frame counts.
    """
    r = [s for s in score_frames(model, *real, device=device) if s is not None]
    g = [s for frames, cam in generated for s in score_frames(model, frames, cam, device=device) if s is not None]
    if not r or not g:
        raise InputError(f"no {'real' if not r else 'generated'} frame could be scored (unreadable, or under "
                         f"{model.min_side} px a side)")
    return {"auc": roc_auc(r, g), "real_mean": float(np.mean(r)), "generated_mean": float(np.mean(g)),
            "real_frames": len(r), "generated_frames": len(g)}


def train_ood(real: tuple[str | Path, Camera, list[PolarImage]],
              generated: list[tuple[str | Path, Camera, list[PolarImage]]], settings: OODSettings = OODSettings(),
              *, device: str | None = None, progress: bool = True) -> tuple[OODModel, dict]:
    """Train a classifier of real vs generated crops and measure it on the held-out frames.

    Args:
        real: (folder, camera, frames) of the real polarimetric set.
        generated: (folder, camera, frames) of each generated set (the history).
        settings: training settings.
        device: torch device name (default: CUDA when present).
        progress: show a progress bar.

    Returns:
        (the model, a report: settings, sets, ``heldout`` separation and the last loss).
    """
    from tqdm import tqdm

    if not generated:
        raise ConfigError("an OOD model needs at least one generated set")
    s = settings
    rng = np.random.default_rng(s.seed)
    torch.manual_seed(s.seed)
    dev = pick_device(device)
    r_root, r_cam, r_frames = real
    r_split = split(r_frames, s.holdout)
    g_splits = [split(frames, s.holdout) for _, _, frames in generated]
    real_pool = _load(r_split[0], r_cam, s.crop, s.max_frames, rng, str(r_root))
    gen_pool = [t for (root, cam, _), (train, _) in zip(generated, g_splits, strict=True)
                for t in _load(train, cam, s.crop, s.max_frames, rng, str(root))]
    source = f"real {r_root} vs generated {', '.join(str(g[0]) for g in generated)}"
    model = build_ood("bce", s.ndf, s.n_layers, source=source)
    d = model.d.to(dev).train()
    opt = torch.optim.Adam(d.parameters(), lr=s.lr, betas=(0.5, 0.999))
    half = s.batch // 2
    loss = torch.tensor(float("nan"))
    for _ in tqdm(range(s.steps), disable=not progress, unit="step", desc="ood train"):
        x_real = _crops(real_pool, half, s.crop, rng).to(dev)
        x_gen = _crops(gen_pool, s.batch - half, s.crop, rng).to(dev)
        loss = 0.5 * (vanilla(d(x_real), True) + vanilla(d(x_gen), False))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if not torch.isfinite(loss):
        raise FloatingPointError(f"OOD training diverged (loss {float(loss)})")
    d.eval()
    held = separation(model, (r_split[1], r_cam), [(gs[1], g[1]) for g, gs in zip(generated, g_splits, strict=True)],
                      device=device)
    report = {"settings": asdict(s), "real": str(r_root), "generated": [str(g[0]) for g in generated],
              "train_frames": {"real": len(r_split[0]), "generated": sum(len(gs[0]) for gs in g_splits)},
              "heldout": held, "last_loss": float(loss.detach())}
    return model, report


def export_from_translator(checkpoint: str | Path) -> OODModel:
    """The polarimetric discriminator of a CycleGAN translator checkpoint as an OOD model.

    Raises:
        CheckpointError: not a CycleGAN checkpoint (the paired objective's discriminator judges (RGB, frame)
            pairs and cannot score a frame alone).
    """
    from polaraug.translate.checkpoint import read_checkpoint, saved_config

    state = read_checkpoint(checkpoint)
    if state.get("objective", "cyclegan") != "cyclegan":
        raise CheckpointError(f"{checkpoint}: a {state['objective']!r} translator has no discriminator of "
                              "polarimetric frames alone; export from a CycleGAN checkpoint or train one with "
                              "'polaraug ood train'")
    cfg = saved_config(state, checkpoint)
    model = build_ood(cfg.gan_loss, cfg.ndf, cfg.n_layers, cfg.d_scales,
                      source=f"discriminator of translator {Path(checkpoint).name}")
    model.d.load_state_dict(state["nets"]["d_b"])
    model.d.eval()
    return model
