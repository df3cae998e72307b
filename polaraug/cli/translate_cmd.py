"""``polaraug translate``: the main job, an RGB dataset -> a polarimetric dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors

_Src = Annotated[Path, typer.Argument(help="BDD100K, KITTI, COCO or YOLO root, or a folder of images.")]
_Out = Annotated[Path, typer.Argument(help="Output polarimetric set (polaraug layout).")]
_Checkpoint = Annotated[str, typer.Option(help="Translator checkpoint (from polaraug train); 'default': the "
                                               "built-in translator (its model card: docs/translator.md).")]
_Fmt = Annotated[str, typer.Option("--format", help="auto, bdd100k, kitti, coco, yolo, folder.")]
_Project = Annotated[bool, typer.Option("--project", help="Project every output onto the admissible cone "
                                                          "(always on for 'project' checkpoints).")]
_Batch = Annotated[int, typer.Option(help="Frames per forward pass (frames of equal size).")]
_Bits = Annotated[int | None, typer.Option(help="Output depth: 8, 10, 12 or 16 (default: the target camera's "
                                                  "bit_depth rounded up to one of these, 8 when its file has "
                                                  "none). 10 and 12 bits are stored in 16-bit PNGs with zero "
                                                  "low bits and an sBIT chunk that says the depth.")]
_Shard = Annotated[str, typer.Option(help="i/n: translate batches i, i+n, ... (under torchrun: the rank).")]
_Device = Annotated[str | None, typer.Option(help="cuda, cpu, ... (default: CUDA when present).")]
_Workers = Annotated[int, typer.Option(help="Decode/encode threads.")]
_CompileModel = Annotated[bool, typer.Option("--compile", help="torch.compile the generator (GPU runs; "
                                                               "needs a C++ compiler).")]
_Calibration = Annotated[str | None, typer.Option(help="Translate for this camera (file or built-in name) "
                                                       "instead of the checkpoint's; Stokes-head checkpoints "
                                                       "only (y = A s holds for any camera).")]
_ClassMap = Annotated[Path | None, typer.Option(help="YAML 'source class: canonical class|ignore|drop' "
                                                     "(case-insensitive), applied before the reader's own "
                                                     "table.")]
_Overwrite = Annotated[bool, typer.Option("--overwrite", help="Remove a previous translation in OUT and start "
                                                              "over (a resume with other settings is refused).")]
_Where = Annotated[list[str] | None, typer.Option(help="ATTRIBUTE=VALUE[,VALUE...]: only frames whose weather, "
                                                       "timeofday or scene is one of the values (BDD100K labels; "
                                                       "repeat for several attributes, all must hold), e.g. "
                                                       "--where weather=rainy,foggy --where timeofday=night.")]
_Limit = Annotated[int | None, typer.Option(help="At most this many frames (of those --where selects), drawn "
                                                 "with --seed.")]
_Seed = Annotated[int, typer.Option(help="Seed of the --limit draw and of the sensor noise.")]
_Sensor = Annotated[bool, typer.Option("--sensor/--no-sensor", help="Write frames through the target camera's "
                                                                   "sensor model (noise, mosaic, demosaicing, "
                                                                   "black level, blur, tone) when its file "
                                                                   "has a 'sensor' section.")]
_Backend = Annotated[str, typer.Option(help="Where the generator runs: auto (ONNX Runtime on the CPU when the "
                                             "'onnx' extra is installed, else torch; a resumed output keeps "
                                             "its backend), torch, or onnxruntime (CPU only).")]
_SpaceCheck = Annotated[bool, typer.Option("--space-check/--no-space-check", help="Refuse to start when the "
                                                                                 "output's disk lacks the "
                                                                                 "estimated space.")]
_Spin = Annotated[int, typer.Option(help="Test-time cycle spinning: average the translations of the frame "
                                        "shifted by 0..N-1 px along each axis (N in 1, 2, 4; N² forward "
                                        "passes). 4 removes the faint period-2/4 px checkerboard of the "
                                        "generator's upsampling.")]
_Mirror = Annotated[bool, typer.Option("--mirror", help="Also average with the mirrored frame's translation, "
                                                        "mirrored back with its polarization (twice the "
                                                        "passes).")]


def averaging_option(spin: int, mirror: bool):
    """The :class:`~polaraug.translate.infer.Averaging` of ``--spin`` and ``--mirror`` (BadParameter on a spin
    it refuses)."""
    from polaraug.translate.infer import Averaging

    try:
        return Averaging(spin, mirror)
    except ValueError as e:  # Averaging is where the allowed spins are kept
        raise typer.BadParameter(str(e), param_hint="--spin") from None


def translate(
    src: _Src,
    out: _Out,
    checkpoint: _Checkpoint = "default",
    fmt: _Fmt = "auto",
    project: _Project = False,
    batch: _Batch = 4,
    bits: _Bits = None,
    shard: _Shard = "0/1",
    device: _Device = None,
    workers: _Workers = 4,
    compile_model: _CompileModel = False,
    calibration: _Calibration = None,
    class_map: _ClassMap = None,
    overwrite: _Overwrite = False,
    where: _Where = None,
    limit: _Limit = None,
    seed: _Seed = 0,
    sensor: _Sensor = True,
    space_check: _SpaceCheck = True,
    backend: _Backend = "auto",
    spin: _Spin = 1,
    mirror: _Mirror = False,
) -> None:
    """Translate every frame at full resolution, carry labels over, write a manifest; resumable."""
    from polaraug.data.select import Selection, parse_where
    from polaraug.errors import InputError
    from polaraug.translate.dataset import run_translation

    averaging = averaging_option(spin, mirror)
    with user_errors():
        try:
            i, n = (int(v) for v in shard.split("/"))
        except ValueError:
            raise InputError(f"--shard must look like 0/4, got {shard!r}") from None
        selection = Selection(parse_where(where or []), limit, seed)
        summary = run_translation(src, out, checkpoint=checkpoint, fmt=fmt, project=project, batch=batch, bits=bits,
                                  shard=(i, n), device=device, workers=workers, compile_model=compile_model,
                                  calibration=calibration, overwrite=overwrite, class_map=class_map,
                                  selection=selection, sensor=sensor, sensor_seed=seed,
                                  space_check=space_check, backend=backend, averaging=averaging)
    if summary is not None:  # under torchrun, rank 0 reports
        if summary.selection:
            typer.echo(summary.selection["line"])
        if summary.sensor:
            typer.echo(f"written through the camera's sensor model: {summary.sensor}")
        from polaraug.translate.builtin import resolve_checkpoint, translator_name

        averaged = f", averaging: {summary.averaging.describe()}" if summary.averaging.active else ""
        typer.echo(f"translator: {translator_name(resolve_checkpoint(checkpoint))} (backend: {summary.backend}"
                   f"{averaged})")
        typer.echo(f"translated {summary.written} frames into {out} ({summary.skipped_existing} already there, "
                   f"{len(summary.unreadable)} unreadable)")
        for line in summary.unreadable:
            typer.echo(f"  skipped: {line}")
        for reason, count in sorted(summary.dropped_boxes.items()):
            typer.echo(f"  dropped {count} label(s), frames kept: {reason}")
