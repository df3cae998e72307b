"""``polaraug calibrate``: estimate a camera file from captures, or list/show camera files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from ._errors import user_errors

app = typer.Typer(help="Estimate camera calibration files from captures; list and show them.",
                  no_args_is_help=True)

CameraOpt = Annotated[
    str, typer.Option("--camera", help="Starting camera file or built-in name (gives DoFP pattern, bit depth).")
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Calibration YAML to write.")]
NameOpt = Annotated[str | None, typer.Option(help="Name of the new camera (default: OUT's stem).")]


@app.command("polarizer")
def polarizer(
    files: Annotated[list[Path], typer.Argument(help="Captures of a uniformly lit linear polarizer.")],
    angles: Annotated[str, typer.Option(help="Polarizer angle of each capture in degrees, comma-separated.")],
    out: OutOpt,
    camera: CameraOpt = "ideal",
    name: NameOpt = None,
) -> None:
    """Least-squares fit of angles, gains and extinction ratios from polarizer captures at known angles."""
    from polaraug.cameras import load_camera, save_camera
    from polaraug.cameras.calibrate import calibrate_polarizer, default_name, parse_angles

    with user_errors():
        alphas = parse_angles(angles, len(files))
        cam, fit = calibrate_polarizer(files, alphas, load_camera(camera), default_name(out, name))
        save_camera(cam, out)
    typer.echo("channel  angle(deg)  gain     extinction ratio")
    for i, label in enumerate(("I0", "I45", "I90", "I135")):
        typer.echo(f"{label:<8} {fit.angles_deg[i]:10.3f}  {fit.gains[i]:.4f}   {fit.extinction_ratios[i]:.4g}")
    typer.echo(f"rms fit residual {fit.rms_residual:.4g}; wrote {out}")


@app.command("gains")
def gains(
    files: Annotated[list[Path], typer.Argument(help="Ordinary captures with polarized regions of varied AoLP.")],
    out: OutOpt,
    camera: CameraOpt = "ideal",
    name: NameOpt = None,
) -> None:
    """Per-channel gains from the redundancy I0 + I90 = I45 + I135 (angles and ERs kept from --camera)."""
    from polaraug.cameras import load_camera, save_camera
    from polaraug.cameras.calibrate import calibrate_gains, default_name

    with user_errors():
        cam, fit = calibrate_gains(files, load_camera(camera), default_name(out, name))
        save_camera(cam, out)
    typer.echo("gains (I0, I45, I90, I135): " + ", ".join(f"{g:.4f}" for g in fit.gains))
    typer.echo(f"rms of I0+I90-I45-I135: {fit.rms_redundancy_before:.4g} before, {fit.rms_redundancy_after:.4g} after")
    typer.echo(f"conditioning {fit.conditioning:.3g}; wrote {out}")


def _unpolarized(files: list[Path], out: Path, camera: str, name: str | None, flat_field: bool,
                 per_pixel: bool = False) -> None:
    import dataclasses

    from polaraug.cameras import load_camera, save_camera
    from polaraug.cameras.calibrate import calibrate_unpolarized, default_name, flat_field_map
    from polaraug.io.atomic import atomic_path

    with user_errors():
        base = load_camera(camera)
        if per_pixel:
            gain_map, skipped = flat_field_map(files, base)
            map_path = out.with_name(f"{out.stem}.gainmap.npy")
            with atomic_path(map_path) as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, gain_map)
            base = dataclasses.replace(base, gain_map=str(map_path.resolve()))
            typer.echo(f"gain map {map_path} {gain_map.shape}: min {gain_map.min():.4f}, max {gain_map.max():.4f} "
                       f"({skipped} saturated or black samples left at 1)")
        cam, before, after = calibrate_unpolarized(files, base, default_name(out, name), flat_field=flat_field)
        save_camera(cam, out)
    if not flat_field:
        typer.echo("assumption: most of each scene is weakly polarized (gains are the median channel ratios; "
                   "a scene dominated by one strong polarization biases them)")
    typer.echo("gains (I0, I45, I90, I135): " + ", ".join(f"{g:.4f}" for g in cam.gains))
    typer.echo(f"{'':<28}{'before':>10}{'after':>10}")
    for key, label in (("residual_rms", "residual RMS"), ("redundancy_ratio", "median (I0+I90)/(I45+I135)"),
                       ("dolp_median", "median DoLP"), ("aolp_concentration", "AoLP concentration (0..1)"),
                       ("aolp_mean_deg", "mean AoLP (deg)")):
        typer.echo(f"{label:<28}{before[key]:10.4g}{after[key]:10.4g}")
    typer.echo(f"wrote {out}")


@app.command("flatfield")
def flatfield(
    files: Annotated[list[Path], typer.Argument(help="Captures of a uniform unpolarized target (e.g. a diffuser "
                                                     "or integrating sphere).")],
    out: OutOpt,
    camera: CameraOpt = "ideal",
    name: NameOpt = None,
    per_pixel: Annotated[bool, typer.Option("--per-pixel", help="Also write a per-pixel gain map (vignetting, "
                                                                "pixel response) beside OUT, applied on read.")]
    = False,
) -> None:
    """Per-channel gains from flat-field captures of unpolarized light (angles and ERs kept from --camera)."""
    _unpolarized(files, out, camera, name, flat_field=True, per_pixel=per_pixel)


@app.command("weak")
def weak(
    files: Annotated[list[Path], typer.Argument(help="Ordinary captures, most of each scene weakly polarized.")],
    out: OutOpt,
    camera: CameraOpt = "ideal",
    name: NameOpt = None,
) -> None:
    """For archives without calibration captures: per-channel gains assuming most of each scene is weakly
    polarized; prints the assumption and how the residual and AoLP statistics moved."""
    _unpolarized(files, out, camera, name, flat_field=False)


@app.command("list")
def list_cameras() -> None:
    """List the built-in camera files."""
    from polaraug.cameras import builtin_names, load_camera

    for n in builtin_names():
        typer.echo(f"{n:<18} {load_camera(n).description}")


@app.command("show")
def show(camera: Annotated[str, typer.Argument(help="Camera file or built-in name.")]) -> None:
    """Print a camera file's matrix A and pseudo-inverse A†."""
    from polaraug.cameras import load_camera
    from polaraug.physics import pseudo_inverse

    with user_errors():
        cam = load_camera(camera)
    a = cam.matrix(np.float64)
    np.set_printoptions(precision=4, suppress=True)
    typer.echo(f"{cam.name}: {cam.description}\nA =\n{a}\nA† =\n{pseudo_inverse(a)}")


@app.command("sensor")
def sensor(
    files: Annotated[list[Path], typer.Argument(help="Captures: raw DoFP mosaics or 4-channel images (integer "
                                                     "samples as the camera wrote them).")],
    out: OutOpt,
    camera: CameraOpt = "ideal",
    name: NameOpt = None,
    stack: Annotated[bool, typer.Option("--stack", help="The captures are frames of one static scene: temporal "
                                                        "statistics (EMVA 1288 style) instead of single images.")]
    = False,
    plot: Annotated[Path | None, typer.Option(help="Variance against signal per channel (PNG).")] = None,
    black_level: Annotated[float, typer.Option(help="The pedestal the samples carry, in ADC counts (from dark "
                                                    "frames or the datasheet; 0 for pedestal-free samples): "
                                                    "subtracted before the fit and written into the file.")]
    = 0.0,
) -> None:
    """Noise curve (variance = a x + b per channel), ADC depth and black level from captures, written as the
    camera file's 'sensor' section (translate then writes frames through it)."""
    from polaraug.cameras import load_camera, save_camera
    from polaraug.cameras.calibrate import default_name
    from polaraug.cameras.noise import CHANNELS, calibrate_sensor, plot_noise

    with user_errors():
        cal = calibrate_sensor(files, load_camera(camera), stack=stack, name=default_name(out, name),
                               black_dn=black_level)
        save_camera(cal.camera, out)
    typer.echo(f"{cal.route}: ADC depth {cal.bits} bits" + (f" (shifted left by {cal.shift} in the files)"
                                                           if cal.shift else ""))
    typer.echo("channel  a (shot gain)              b (read variance)          blocks")
    for label, fit in zip(CHANNELS, cal.fits, strict=True):
        typer.echo(f"{label:<8} {fit.a:.4g} ± {fit.a_err:.2g}{'':<8} {fit.b:.4g} ± {fit.b_err:.2g}{'':<8} {fit.blocks}")
    if cal.bits_guessed:
        typer.echo(f"warning: ADC depth guessed from the largest sample ({cal.bits} bits); give a --camera with "
                   "bit_depth if the captures never reach full scale")
    typer.echo(f"black level {cal.black_level:.4g} (full scale, as given); lowest samples {cal.lowest:.4g} "
               "(about -3.7 read-noise sigma with dark areas and the right black level; well above 0: a "
               "pedestal left in)")
    falling = [label for label, fit in zip(CHANNELS, cal.fits, strict=True) if fit.a + 2 * fit.a_err < 0]
    if falling:
        typer.echo(f"warning: in {', '.join(falling)} the noise falls as the signal rises, which a linear raw "
                   "read-out does not do (a tone curve, denoising, or texture left in dark areas): their shot "
                   "gain is written as 0; prefer raw captures or --stack")
    if plot is not None:
        plot_noise(cal, plot)
        typer.echo(f"plot {plot}")
    typer.echo(f"wrote {out}")
