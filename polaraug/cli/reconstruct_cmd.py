"""``polaraug reconstruct train|apply|sweep``: the pixel-wise conditioned GAN (reconstruction stage)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors

app = typer.Typer(help="Rebuild images from sparse known pixels (pixel-wise conditioned GAN).",
                  no_args_is_help=True)

DataOpt = Annotated[Path, typer.Option(help="Training images: RGB folder (any layout) or polarimetric set.")]
KindOpt = Annotated[str, typer.Option(help="auto (polar if manifest.json), rgb or polar.")]
CalOpt = Annotated[str | None, typer.Option(help="Camera file for polarimetric data without a manifest.")]


def _camera(data: Path, kind: str, calibration: str | None):
    """None for RGB data, else the camera (calibration file, else the set's manifest)."""
    from polaraug.data.camera_choice import resolve_camera
    from polaraug.reconstruct.data import data_kind

    if data_kind(data, kind) == "rgb":
        return None
    return resolve_camera(calibration, data, default=None)


def _config(camera, lam: float, pacgan: int, density: float, mask: str, crop: int, batch: int,
            gan_loss: str = "lsgan", n_critic: int = 1):
    from polaraug.reconstruct.config import ReconstructConfig

    return ReconstructConfig(channels=3 if camera is None else 4, lam=lam, pacgan=pacgan, density=density,
                             mask=mask, crop=crop, batch=batch, gan_loss=gan_loss, n_critic=n_critic)


@app.command("train")
def train(
    data: DataOpt,
    out: Annotated[Path, typer.Option(help="Run folder; rerunning resumes from its checkpoint.")],
    lam: Annotated[float, typer.Option("--lambda", help="Weight of the constraint term.")] = 1.0,
    pacgan: Annotated[int, typer.Option(help="Samples packed per discriminator input (1 = off).")] = 1,
    density: Annotated[float, typer.Option(help="Share of known pixels in training masks.")] = 0.005,
    mask: Annotated[str, typer.Option(help="Training masks: random or grid (DoFP-like lattice).")] = "random",
    steps: Annotated[int, typer.Option(help="Training steps.")] = 2000,
    crop: Annotated[int, typer.Option(help="Crop size (multiple of 4).")] = 64,
    batch: Annotated[int, typer.Option(help="Batch size (a multiple of --pacgan).")] = 4,
    gan_loss: Annotated[str, typer.Option(help="Adversarial loss: lsgan, vanilla or wgan-gp.")] = "lsgan",
    n_critic: Annotated[int, typer.Option(help="Discriminator steps per generator step (wgan-gp: 5 is usual).")] = 1,
    kind: KindOpt = "auto",
    calibration: CalOpt = None,
    seed: Annotated[int, typer.Option(help="Seed for initialisation, crops, masks and noise.")] = 0,
    device: Annotated[str | None, typer.Option(help="cuda, cpu, ... (default: CUDA when present).")] = None,
) -> None:
    """Train G(z, c, m) with L_GAN + λ·E‖c − m⊙G‖²; checkpoints, log.csv and sample grids in the run folder."""
    from polaraug.reconstruct.data import Crops
    from polaraug.reconstruct.train import train as run

    with user_errors():
        camera = _camera(data, kind, calibration)
        cfg = _config(camera, lam, pacgan, density, mask, crop, batch, gan_loss, n_critic)
        result = run(Crops.from_folder(data, camera, cfg, seed), out, cfg, steps, seed=seed, device=device)
    typer.echo(f"trained {result.steps} steps; checkpoint {result.checkpoint}; log {result.log}")


@app.command("apply")
def apply(
    checkpoint: Annotated[Path, typer.Option(help="Checkpoint from 'polaraug reconstruct train'.")],
    input: Annotated[Path, typer.Option(help="Folder of images (RGB, or 4-channel polarimetric PNGs).")],
    out: Annotated[Path, typer.Option(help="Output folder (same relative names).")],
    mask: Annotated[Path | None, typer.Option(help="Folder of PNG masks (non-zero = known) named like the "
                                                   "inputs (NAME.png for NAME.jpg). Without it: random masks at "
                                                   "--density.")] = None,
    density: Annotated[float, typer.Option(help="Known share for generated masks (without --mask).")] = 0.005,
    seed: Annotated[int, typer.Option(help="Seed for generated masks and the noise.")] = 0,
) -> None:
    """Fill the unknown pixels of each image; known pixels are kept exactly. Prints the model's error on the
    known pixels (before they are copied back)."""
    from polaraug.cameras import camera_from_dict
    from polaraug.reconstruct.apply import apply_folder
    from polaraug.reconstruct.checkpoint import load_reconstructor

    with user_errors():
        model, state = load_reconstructor(checkpoint)
        camera = camera_from_dict(state["camera"], f"{checkpoint} (camera)") if state["camera"] else None
        report = apply_folder(model, camera, input, out, mask_dir=mask, density=density, seed=seed)
    for line in report.lines():
        typer.echo(line)


@app.command("sweep")
def sweep(
    data: DataOpt,
    out: Annotated[Path, typer.Option(help="Sweep folder: one run per λ and seed, sweep.json/md, tradeoff.png.")],
    lambdas: Annotated[str, typer.Option(help="Comma-separated λ values.")] = "0.01,0.1,1,10,100",
    seeds: Annotated[int, typer.Option(help="Seeds per λ.")] = 2,
    steps: Annotated[int, typer.Option(help="Training steps per run (the same budget for every λ).")] = 1000,
    eval_images: Annotated[int, typer.Option(help="Held-out crops scored per run.")] = 128,
    feature_net: Annotated[Path | None, typer.Option(help="Local TorchScript feature extractor for FID "
                                                          "((N, C, H, W) in [0, 1] -> (N, D)); default: a "
                                                          "network trained on the data (domain FID).")] = None,
    baselines: Annotated[str, typer.Option(help="Comma-separated baselines trained and scored beside the "
                                                "pixel-wise GAN: context-encoder, latent-optimisation "
                                                "(default: none).")] = "",
    pacgan: Annotated[int, typer.Option(help="PacGAN packing.")] = 1,
    density: Annotated[float, typer.Option(help="Share of known pixels.")] = 0.005,
    mask: Annotated[str, typer.Option(help="random or grid.")] = "random",
    crop: Annotated[int, typer.Option(help="Crop size.")] = 64,
    batch: Annotated[int, typer.Option(help="Batch size.")] = 4,
    kind: KindOpt = "auto",
    calibration: CalOpt = None,
    device: Annotated[str | None, typer.Option(help="cuda, cpu, ...")] = None,
) -> None:
    """Train one model per λ (and each --baselines method) and report constraint MSE vs domain FID / KID / SWD
    (table, JSON, plot)."""
    from polaraug.errors import InputError
    from polaraug.reconstruct.baselines import BASELINES
    from polaraug.reconstruct.data import Crops
    from polaraug.reconstruct.sweep import run_sweep, table_lines

    with user_errors():
        try:
            lams = [float(x) for x in lambdas.split(",") if x.strip()]
        except ValueError:
            raise InputError(f"--lambdas must be comma-separated numbers, got {lambdas!r}") from None
        chosen = tuple(b.strip() for b in baselines.split(",") if b.strip())
        unknown = [b for b in chosen if b not in BASELINES]
        if unknown:
            raise InputError(f"--baselines: unknown {unknown[0]!r} (choose from {', '.join(BASELINES)})")
        camera = _camera(data, kind, calibration)
        cfg = _config(camera, 1.0, pacgan, density, mask, crop, batch)
        results = run_sweep(Crops.from_folder(data, camera, cfg), out, cfg, lambdas=lams, seeds=list(range(seeds)),
                            steps=steps, eval_images=eval_images, feature_net=feature_net, baselines=chosen,
                            device=device)
    typer.echo("\n".join(table_lines(results)))
    typer.echo(f"wrote {out / 'sweep.json'}, {out / 'sweep.md'}, {out / 'tradeoff.png'}")
