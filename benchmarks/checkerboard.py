"""Does a translator leave checkerboard artifacts, and how sharp is its polarization? Spectra against the truth's.

A stride-2 transposed convolution that overlaps unevenly paints a pattern of period 2 px (frequency 0.5
cycles/px) and, two layers up, period 4 px (0.25 cycles/px). Such a pattern is a narrow peak in the
DoLP map's power spectrum at those frequencies that the true DoLP of the same frames lacks. On held-out
paired renders (their RGB side translated; the truth: the same scenes rendered without noise or mosaic)
this script averages the Hann-windowed power spectrum of each frame's DoLP, compares each checkpoint's
spectrum with the truth's at 0.25 and 0.5 cycles/px along both axes (the *peak*: power at the frequency
over the median of its neighbours, predicted over true; about 1 without artifact), and draws the profiles.
A peak is relative to its neighbours, which a blurred prediction lowers, so the script also records the
absolute power at each checked frequency over the truth's there, and the *detail*: the predicted power over
the truth's between 0.1 and 0.4 cycles/px (geometric mean; 1: as sharp as the truth, 0.1: a tenth the power).
Power says nothing of where the detail is, so the *fine error* compares maps frame by frame: the power of
predicted minus true DoLP over the truth's, both summed over all frequencies between 0.1 and 0.4 cycles/px
(0: every fine detail right; about 1: none of it, as a blur; above 1: detail where the truth has none),
and the same ratio in coarser bands (``error_by_band``): which scales of the truth's structure a translator
gets; ``stokes_error_by_band`` does the same for s0, s1 and s2 (is the blur in the intensity or only in the
polarization?).
It also measures the pattern's size in DoLP units: the RMS of the 4 x 4 table of the DoLP's mean at each
pixel phase (row and column mod 4, over all frames; content is not locked to the grid and averages out).

``--maps`` draws the first frames' true and predicted DoLP side by side. ``--spin 1 4`` scores each
checkpoint with each test-time cycle spinning (``translate --spin``).

    .venv/bin/python benchmarks/checkerboard.py --checkpoint default [--checkpoint run/checkpoints/last.pt] \\
        [--spin 1 4] --json docs/figures/checkerboard.json --figure docs/figures/checkerboard.png [--maps maps.png]

``--quick``: a few tiny frames and the built-in translator (the test suite runs it; numbers meaningless).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from polaraug.data.polarset import read_polarset
from polaraug.io.images import read_image
from polaraug.physics import dolp, stokes_from_intensities
from polaraug.synth.generate import SynthConfig, generate
from polaraug.synth.sensor import SensorConfig
from polaraug.translate.builtin import translator_name
from polaraug.translate.checkpoint import load_translator
from polaraug.translate.infer import NO_AVERAGING, Averaging, rgb_to_tensor, translate_batch

CLEAN = SensorConfig(read_noise=0.0, shot_noise=0.0, bits=16)  # the truth: no noise, no mosaic
FREQS = (0.25, 0.5)  # cycles/px: period-4 and period-2 patterns of two stride-2 upsamplings
SHOWN = 3  # frames drawn by --maps
BANDS = ((0.0, 0.02), (0.02, 0.05), (0.05, 0.1), (0.1, 0.2), (0.2, 0.4))  # cycles/px: whole objects to edges
FINE = (0.1, 0.4)  # cycles/px: the fine error's band (periods of 2.5-10 px)


def stokes_maps(data: Path, truth: Path) -> tuple[list[Path], list[np.ndarray]]:
    """The RGB frames of a paired set and the true Stokes vectors (H, W, 3) of the noise-free twins in
    ``truth``."""
    ps = read_polarset(truth / "polar")
    a = ps.camera.matrix(np.float64)
    rgb, truth = [], []
    for split in ps.splits or {"train": 0}:
        for frame in ps.frames(split):
            rgb.append(data / "rgb" / "images" / "100k" / split / frame.image.with_suffix(".jpg").name)
            truth.append(stokes_from_intensities(ps.load(frame).astype(np.float64), a))
    return rgb, truth


def predicted_stokes(checkpoint: str, rgb: list[Path], averaging: Averaging = NO_AVERAGING) -> list[np.ndarray]:
    """Stokes vectors (H, W, 3) of a translator's output for each RGB frame (through its own camera)."""
    model, state = load_translator(checkpoint)
    a = np.asarray(state["calibration"], dtype=np.float64)
    maps = []
    for path in rgb:
        y = translate_batch(model, rgb_to_tensor(read_image(path)), averaging)[0].permute(1, 2, 0).double().numpy()
        maps.append(stokes_from_intensities(y, a))
    return maps


def measures(pred: list[np.ndarray], truth: list[np.ndarray], maps: list[np.ndarray],
             truth_maps: list[np.ndarray]) -> dict:
    """What the script records of a translator against the truth, besides the spectrum's peaks: the
    grid-locked pattern, the DoLP's fine error and error by band, and s0, s1 and s2's error by band.

    Args:
        pred, truth: Stokes maps (H, W, 3), paired; maps, truth_maps: their DoLP (H, W).
    """
    by_band = band_errors(maps, truth_maps, (*BANDS, FINE))
    fine = by_band.pop(band_name(FINE))
    by_stokes = {f"s{k}": band_errors([p[..., k] for p in pred], [t[..., k] for t in truth]) for k in range(3)}
    return {"fine_error": fine, "error_by_band": by_band, "stokes_error_by_band": by_stokes,
            "grid_rms_dolp": grid_rms(maps)}


def mean_spectrum(maps: list[np.ndarray]) -> np.ndarray:
    """Average Hann-windowed power spectrum (H, W), fftshifted, of zero-mean maps of one size."""
    h, w = maps[0].shape
    win = np.outer(np.hanning(h), np.hanning(w))
    return np.mean([np.abs(np.fft.fftshift(np.fft.fft2((m - m.mean()) * win))) ** 2 for m in maps], axis=0)


def grid_rms(maps: list[np.ndarray], period: int = 4) -> float:
    """RMS (DoLP units) of the pattern locked to the pixel grid: the mean of the maps at each (row mod
    ``period``, column mod ``period``) phase, less its overall mean."""
    h, w = (s - s % period for s in maps[0].shape)
    stack = np.stack([m[:h, :w] for m in maps]).reshape(len(maps), h // period, period, w // period, period)
    table = stack.mean(axis=(0, 1, 3))
    return float(np.sqrt(np.mean((table - table.mean()) ** 2)))


def profiles(spec: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Power along the horizontal (fy = 0) and vertical (fx = 0) frequency axes: {axis: (f, power)}, f >= 0."""
    h, w = spec.shape
    fx, fy = np.fft.fftshift(np.fft.fftfreq(w)), np.fft.fftshift(np.fft.fftfreq(h))
    row, col = spec[h // 2], spec[:, w // 2]
    return {"horizontal": (np.abs(fx[fx <= 0][::-1]), row[fx <= 0][::-1]),
            "vertical": (np.abs(fy[fy <= 0][::-1]), col[fy <= 0][::-1])}


def peak(f: np.ndarray, p: np.ndarray, at: float, band: float = 0.06) -> float:
    """Power at the frequency nearest ``at`` over the median power of its neighbours within ``band``."""
    i = int(np.argmin(np.abs(f - at)))
    near = (np.abs(f - f[i]) <= band) & (np.arange(len(f)) != i)
    return float(p[i] / max(np.median(p[near]), 1e-30))


def peaks(spec: np.ndarray) -> dict[str, float]:
    """``peak`` at each of FREQS along both axes, e.g. {"horizontal 0.5": 1.2, ...}."""
    return {f"{axis} {at:g}": peak(f, p, at) for axis, (f, p) in profiles(spec).items() for at in FREQS}


def power_over_truth(spec: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Absolute power at each of FREQS along both axes over the truth's there (no neighbours involved)."""
    own, ref = profiles(spec), profiles(truth)
    out = {}
    for axis, (f, p) in own.items():
        for at in FREQS:
            i = int(np.argmin(np.abs(f - at)))
            out[f"{axis} {at:g}"] = float(p[i] / max(ref[axis][1][i], 1e-30))
    return out


def detail(spec: np.ndarray, truth: np.ndarray, band: tuple[float, float] = (0.1, 0.4)) -> float:
    """Geometric mean over both axes' frequencies in ``band`` of the predicted power over the truth's."""
    ratios = []
    for (f, p), (_, q) in zip(profiles(spec).values(), profiles(truth).values(), strict=True):
        keep = (f >= band[0]) & (f <= band[1])
        ratios.append(np.log(np.maximum(p[keep], 1e-30) / np.maximum(q[keep], 1e-30)))
    return float(np.exp(np.mean(np.concatenate(ratios))))


def band_name(band: tuple[float, float]) -> str:
    """E.g. "0.1-0.2"."""
    return f"{band[0]:g}-{band[1]:g}"


def band_errors(maps: list[np.ndarray], truth: list[np.ndarray],
                bands: tuple[tuple[float, float], ...] = BANDS) -> dict[str, float]:
    """Per band (cycles/px, the 2-D frequency's radius): the power of the maps' errors against the truth
    over the truth's power, both summed over the band. Both spectra are computed once for all bands.

    Args:
        maps, truth: (H, W) maps, paired.

    Returns:
        {band_name(band): ratio}.
    """
    err, ref = mean_spectrum([m - t for m, t in zip(maps, truth, strict=True)]), mean_spectrum(truth)
    h, w = ref.shape
    fy, fx = np.meshgrid(np.fft.fftshift(np.fft.fftfreq(h)), np.fft.fftshift(np.fft.fftfreq(w)), indexing="ij")
    radius = np.hypot(fx, fy)
    rings = {band_name(b): (radius >= b[0]) & (radius <= b[1]) for b in bands}
    return {name: float(err[ring].sum() / max(ref[ring].sum(), 1e-30)) for name, ring in rings.items()}


def fine_error(maps: list[np.ndarray], truth: list[np.ndarray], band: tuple[float, float] = FINE) -> float:
    """:func:`band_errors` in one band (default: the edges, 0.1-0.4 cycles/px)."""
    return band_errors(maps, truth, (band,))[band_name(band)]


def draw(spectra: dict[str, np.ndarray], path: Path) -> Path:
    """Log power profiles of every spectrum, both axes, with the checked frequencies marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, axis in zip(axes, ("horizontal", "vertical"), strict=True):
        for name, spec in spectra.items():
            f, p = profiles(spec)[axis]
            ax.semilogy(f[1:], p[1:], label=name, lw=1.2)
        for at in FREQS:
            ax.axvline(at, color="grey", ls=":", lw=0.8)
        ax.set_xlabel(f"{axis} frequency (cycles/px)")
        ax.set_title(f"DoLP power spectrum, {axis}")
    axes[0].set_ylabel("power (mean over frames)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw_maps(rgb: list[np.ndarray], shown: dict[str, list[np.ndarray]], path: Path) -> Path:
    """One row per frame: its RGB (H, W, 3), then the DoLP maps (H, W) of ``shown`` (truth first), 0-0.6."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 1 + len(shown)
    fig, axes = plt.subplots(len(rgb), cols, figsize=(2.6 * cols, 2.1 * len(rgb)), squeeze=False)
    for row, image in enumerate(rgb):
        axes[row, 0].imshow(image)
        for col, (name, maps) in enumerate(shown.items(), start=1):
            axes[row, col].imshow(maps[row], vmin=0, vmax=0.6, cmap="viridis", interpolation="nearest")
            if row == 0:
                axes[row, col].set_title(f"DoLP, {name}", fontsize=7)
    axes[0, 0].set_title("RGB input", fontsize=7)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def summary(name: str, entry: dict, truth_grid: float) -> str:
    """One line of a translator's ``result["spectra"]`` entry."""
    def listed(d: dict) -> str:
        return ", ".join(f"{k} {v:.2f}" for k, v in d.items())

    worst = max(entry["peaks_over_truth"].items(), key=lambda kv: kv[1])
    return (f"{name}: largest peak over the truth's {worst[1]:.2f} ({worst[0]} cycles/px); "
            f"{listed(entry['peaks_over_truth'])}; grid pattern {entry['grid_rms_dolp']:.5f} DoLP rms (truth "
            f"{truth_grid:.5f}); power at {listed(entry['power_over_truth'])} the truth's; detail "
            f"{entry['detail']:.3f}; fine error {entry['fine_error']:.3f}; error by band (cycles/px) "
            f"{listed(entry['error_by_band'])}; of s0, s1, s2 at 0.1-0.2: "
            + ", ".join(f"{entry['stokes_error_by_band'][k]['0.1-0.2']:.2f}" for k in ("s0", "s1", "s2")))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", action="append", default=[],
                   help="[NAME=]CHECKPOINT of a translator (repeatable; default: default)")
    p.add_argument("--data", type=Path, help="a paired set (synth --mode paired); default: render held-out frames")
    p.add_argument("--truth", type=Path, help="the same scenes rendered noise-free without a mosaic (synth "
                                              "--no-noise --no-dofp; needed with --data)")
    p.add_argument("--spin", type=int, nargs="+", default=[1], help="test-time cycle spinning of each checkpoint "
                                                                    "(1, 2, 4; several: each)")
    p.add_argument("--frames", type=int, default=32, help="frames rendered when --data is not given")
    p.add_argument("--json", type=Path)
    p.add_argument("--figure", type=Path, help="the DoLP power spectra (PNG)")
    p.add_argument("--maps", type=Path, help="the first frames' RGB, true DoLP and each translator's DoLP (PNG)")
    p.add_argument("--quick", action="store_true", help="4 tiny frames (smoke test)")
    args = p.parse_args()
    torch.set_grad_enabled(False)
    checkpoints = args.checkpoint or ["default"]
    with tempfile.TemporaryDirectory() as tmp:
        data, truth = args.data, args.truth
        if data is None:  # held-out: a seed and camera domain the built-in translator never trained on
            n, (w, h) = (4, (64, 48)) if args.quick else (args.frames, (192, 144))
            data, truth = Path(tmp) / "paired", Path(tmp) / "truth"
            for root, sensor in ((data, None), (truth, CLEAN)):
                generate(SynthConfig(n=n, width=w, height=h, seed=4321, mode="paired", domain="shifted",
                                     val_fraction=0.0, sensor=sensor), root, progress=False)
        elif truth is None:
            p.error("--data needs --truth (its noise-free twins): sensor noise would hide the spectrum")
        rgb, truth_stokes = stokes_maps(data, truth)
        truth_maps = [dolp(t) for t in truth_stokes]
        spectra = {"truth": mean_spectrum(truth_maps)}
        measured = {"truth": measures(truth_stokes, truth_stokes, truth_maps, truth_maps)}
        shown = {"truth": truth_maps[:SHOWN]}
        for arg in checkpoints:  # [NAME=]CHECKPOINT
            name, sep, ckpt = arg.rpartition("=")
            name = name if sep else translator_name(ckpt) if ckpt != "default" else "default (built-in)"
            for spin in args.spin:
                label = f"{name}, spin {spin}" if len(args.spin) > 1 else name
                stokes = predicted_stokes(ckpt, rgb, Averaging(spin))
                maps = [dolp(st) for st in stokes]
                spectra[label] = mean_spectrum(maps)
                measured[label] = measures(stokes, truth_stokes, maps, truth_maps)
                shown[label] = maps[:SHOWN]
        if args.maps:
            draw_maps([read_image(path) for path in rgb[:SHOWN]], shown, args.maps)
    truth_peaks = peaks(spectra["truth"])
    result = {"frames": len(rgb), "data": str(args.data or "rendered: seed 4321, shifted domain"), "spectra": {}}
    for name, spec in spectra.items():
        own = peaks(spec)
        result["spectra"][name] = {"peaks": own, "peaks_over_truth": {k: v / truth_peaks[k] for k, v in own.items()},
                                   "power_over_truth": power_over_truth(spec, spectra["truth"]),
                                   "detail": detail(spec, spectra["truth"]), **measured[name]}
        if name != "truth":
            print(summary(name, result["spectra"][name], measured["truth"]["grid_rms_dolp"]))
    if args.figure:
        draw(spectra, args.figure)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
