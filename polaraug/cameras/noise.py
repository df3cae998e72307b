"""Estimating a camera's noise curve (variance = a · x + b per polarization channel), bit depth and black
level from its captures: what ``polaraug calibrate sensor`` writes into a camera file's ``sensor:`` section.

Two routes, both ending in the same weighted fit of block variances against block means:

- single images (in the manner of Foi et al. 2008): each channel's own samples (a raw mosaic's sub-image,
  or one plane of a 4-channel capture) give Haar diagonal details ``(x00 - x01 - x10 + x11) / 2``, whose
  variance is the noise variance wherever the scene is locally flat; blocks whose horizontal and vertical
  details are much larger than those of the typical block of their brightness (edges, texture) are left
  out, and each brightness bin keeps the median block variance (so most blocks of a bin must be flat);
- a stack of frames of a static scene (EMVA 1288 style): every pixel's temporal mean and variance.

Units are full scale ([0, 1] of the camera's bit depth). Demosaiced 4-channel captures have spatially
correlated noise: single-image estimates on them are low; raw mosaics or stacks are the honest inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from polaraug.errors import InputError
from polaraug.physics import demosaic, mosaic

BLOCK = 8  # block side (samples of one channel) over which variance and mean are taken
BINS = 16  # brightness bins of the fit
MIN_BLOCKS = 40  # usable blocks (or pixels / 64 for stacks) below which a channel cannot be estimated
MAX_SATURATED = 0.5  # share of saturated samples beyond which captures are refused
CHANNELS = ("I0", "I45", "I90", "I135")
ADC_DEPTHS = (8, 10, 12, 14, 16)
MEASURABLE = (0.25 / 65535) ** 2  # block variances below a quarter of a 16-bit step are no noise to measure


@dataclass
class NoiseFit:
    """The fitted curve of one channel, with bootstrap standard errors.

    Attributes:
        a, b: variance = a · x + b (full-scale units); a_err, b_err: their standard errors.
        means, variances, counts: the binned points the fit used (for the plot).
        blocks: usable blocks (single images) or pixels (stacks).
    """

    a: float
    b: float
    a_err: float
    b_err: float
    means: np.ndarray = field(repr=False)
    variances: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)
    blocks: int = 0


def channel_planes(img: np.ndarray, pattern) -> list[np.ndarray]:
    """The samples of each channel I0..I135: a raw mosaic's four sub-images (physics' superpixel split, the
    mosaic cropped to even sides), or a capture's four planes.

    A 4-channel capture of a DoFP camera (``pattern`` given) was demosaiced by the camera's pipeline: three
    of four values per channel are interpolated, smoother than samples, and would make the noise look
    several times smaller (about 20x for bilinear demosaicing, measured). Each channel is then read only
    where the sensor sampled it (demosaicing keeps the measured samples in place); a capture of a camera
    without a mosaic keeps its four full planes.

    Args:
        img: (H, W) raw mosaic (needs ``pattern``) or (H, W, 4) intensities, full-scale float.
        pattern: the 2x2 DoFP pattern, or None for a camera without a mosaic.
    """
    if img.ndim == 3 and pattern is not None:
        img = mosaic(img, pattern)
    if img.ndim == 2:
        img = demosaic(img[: img.shape[0] // 2 * 2, : img.shape[1] // 2 * 2], pattern, method="superpixel")
    return [img[..., c] for c in range(4)]


def _blocks(x: np.ndarray, size: int) -> np.ndarray:
    """(nb, size * size) values of the non-overlapping size x size blocks of ``x``."""
    h, w = (x.shape[0] // size) * size, (x.shape[1] // size) * size
    return x[:h, :w].reshape(h // size, size, w // size, size).swapaxes(1, 2).reshape(-1, size * size)


def image_points(plane: np.ndarray, top_clip: float = 0.98) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per block of one channel's samples: its mean, its noise variance (diagonal details) and its texture
    energy (mean square of the horizontal and vertical details, the noise variance on flat ground).

    Args:
        plane: (H, W) samples of one channel, full scale.
        top_clip: blocks reaching this value are left out (clipping flattens noise).

    Returns:
        (means, variances, texture), one per unclipped block.
    """
    x = plane[: plane.shape[0] // 2 * 2, : plane.shape[1] // 2 * 2].astype(np.float64)
    p00, p01, p10, p11 = x[0::2, 0::2], x[0::2, 1::2], x[1::2, 0::2], x[1::2, 1::2]
    diag = (p00 - p01 - p10 + p11) / 2  # variance σ² on flat ground, blind to linear gradients
    horiz = (p00 + p10 - p01 - p11) / 2
    vert = (p00 + p01 - p10 - p11) / 2
    mean = (p00 + p01 + p10 + p11) / 4
    size = BLOCK // 2
    d, hv = _blocks(diag, size), _blocks(np.hypot(horiz, vert) / np.sqrt(2), size)
    m, peak = _blocks(mean, size).mean(axis=1), _blocks(np.maximum.reduce([p00, p01, p10, p11]), size).max(axis=1)
    var_d = d.var(axis=1, ddof=1)
    keep = (peak < top_clip) & (var_d > MEASURABLE)
    return m[keep], var_d[keep], (hv**2).mean(axis=1)[keep]


def flat_blocks(means: np.ndarray, variances: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """Which blocks are flat: texture energy below twice what a robust fit of texture against brightness
    expects (the typical block of that brightness). The test never looks at a block's own variance estimate
    (that would bias the kept ones up): horizontal, vertical and diagonal details of pure noise are
    independent. Fitting texture on itself keeps the test right for demosaiced frames too, whose correlated
    noise has more horizontal and vertical than diagonal energy."""
    if means.size < MIN_BLOCKS:
        return np.ones(means.size, bool)
    x, y, n = _binned(means, texture, min(BINS, means.size // 8))
    a, b = _wls(x, y, n)
    expected = np.maximum(a * means + b, np.min(y[y > 0]) if (y > 0).any() else 1e-12)
    return texture < 2.0 * expected


def stack_points(stack: np.ndarray, top_clip: float = 0.98) -> tuple[np.ndarray, np.ndarray]:
    """Temporal mean and variance of every sample of a static scene.

    Args:
        stack: (N, H, W) frames of one channel's samples, N >= 2, full scale.
        top_clip: samples reaching this value in any frame are left out.

    Returns:
        (means, variances), one per sample.
    """
    s = stack.astype(np.float64)
    keep = s.max(axis=0) < top_clip
    return s.mean(axis=0)[keep], s.var(axis=0, ddof=1)[keep]


def _binned(means: np.ndarray, variances: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median variance and mean per brightness bin (equal-count bins), with the count of each."""
    order = np.argsort(means)
    groups = [g for g in np.array_split(order, bins) if g.size]
    return (np.array([np.median(means[g]) for g in groups]), np.array([np.median(variances[g]) for g in groups]),
            np.array([g.size for g in groups]))


def _wls(x: np.ndarray, y: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Weighted least squares of y = a x + b; a bin's weight is its count over its variance squared."""
    w = n / np.maximum(y, 1e-12) ** 2
    design = np.stack([x, np.ones_like(x)], axis=1) * np.sqrt(w)[:, None]
    (a, b), *_ = np.linalg.lstsq(design, y * np.sqrt(w), rcond=None)
    return float(a), float(b)


def fit_curve(means: np.ndarray, variances: np.ndarray, *, median_bias: float = 1.0, bins: int = BINS,
              n_boot: int = 200, seed: int = 0, where: str = "captures") -> NoiseFit:
    """Fit variance = a · x + b to (mean, variance) points, with bootstrap standard errors.

    Args:
        means, variances: one point per block or sample.
        median_bias: the median of a variance estimate over its expectation (a bin keeps the median).
        bins: brightness bins.
        n_boot: bootstrap resamples of the points for the standard errors.
        seed: of the resampling.
        where: named in errors.

    Raises:
        InputError: too few usable points, or a brightness range too narrow to separate a from b.
    """
    if means.size < MIN_BLOCKS:
        raise InputError(f"{where}: only {means.size} flat regions found (need {MIN_BLOCKS}); give captures with "
                         "larger uniform areas, or a stack of frames of a static scene")
    spread = np.percentile(means, 90) - np.percentile(means, 10)
    if spread < 0.05:
        raise InputError(f"{where}: the flat regions span brightness {np.percentile(means, 10):.3f} to "
                         f"{np.percentile(means, 90):.3f} only; the shot and read terms cannot be told apart: "
                         "add captures with both dark and bright uniform areas")
    x, y, n = _binned(means, variances / median_bias, min(bins, means.size // 8))
    a, b = _wls(x, y, n)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n_boot):
        i = rng.integers(0, means.size, means.size)
        boot.append(_wls(*_binned(means[i], variances[i] / median_bias, min(bins, means.size // 8))))
    err = np.std(np.array(boot), axis=0)
    return NoiseFit(a, b, float(err[0]), float(err[1]), x, y, n, int(means.size))


def median_bias(dof: int) -> float:
    """Median of a sample variance over its expectation for ``dof`` degrees of freedom (Gaussian data)."""
    from scipy.stats import chi2

    return float(chi2.median(dof) / dof)


def estimate_from_images(images: list[np.ndarray], pattern, where: str = "captures") -> list[NoiseFit]:
    """The noise curve of each channel from single captures.

    Args:
        images: full-scale (H, W) raw mosaics or (H, W, 4) captures.
        pattern: the camera's DoFP pattern (raw mosaics).
        where: named in errors.
    """
    check_saturation(images, where)
    points = [[[], [], []] for _ in range(4)]
    for img in images:
        for c, plane in enumerate(channel_planes(img, pattern)):
            for k, values in enumerate(image_points(plane)):
                points[c][k].append(values)
    bias = median_bias((BLOCK // 2) ** 2 - 1)
    fits = []
    for c, (m, v, t) in enumerate(points):
        m, v, t = np.concatenate(m), np.concatenate(v), np.concatenate(t)
        keep = flat_blocks(m, v, t)
        fits.append(fit_curve(m[keep], v[keep], median_bias=bias, where=f"{where} ({CHANNELS[c]})"))
    return fits


def estimate_from_stack(frames: list[np.ndarray], pattern, where: str = "captures") -> list[NoiseFit]:
    """The noise curve of each channel from frames of one static scene (EMVA 1288 style).

    Raises:
        InputError: fewer than 2 frames, frames of different shapes, or as :func:`fit_curve`.
    """
    if len(frames) < 2:
        raise InputError(f"{where}: a stack needs at least 2 frames of the same static scene, got {len(frames)}")
    if len({f.shape for f in frames}) != 1:
        raise InputError(f"{where}: the frames of a stack must have one size, got {sorted({f.shape for f in frames})}")
    check_saturation(frames, where)
    planes = [channel_planes(f, pattern) for f in frames]
    fits = []
    for c in range(4):
        m, v = stack_points(np.stack([p[c] for p in planes]))
        fits.append(fit_curve(m, v, median_bias=median_bias(len(frames) - 1), where=f"{where} ({CHANNELS[c]})"))
    return fits


def check_saturation(images: list[np.ndarray], where: str) -> None:
    """Refuse captures that are mostly saturated (no noise is left to measure)."""
    share = float(np.mean([np.mean(img >= 0.999) for img in images]))
    if share > MAX_SATURATED:
        raise InputError(f"{where}: {100 * share:.0f} % of the samples are saturated; expose shorter")


def detect_bits(raw: np.ndarray) -> tuple[int, int]:
    """The ADC depth of integer samples and how many low bits the container pads (12-bit data in 16-bit
    PNGs is often shifted left by 4).

    Returns:
        (bits, shift): e.g. (12, 0) for values up to 4095, (12, 4) for multiples of 16 in uint16.
    """
    raw = np.asarray(raw)
    if raw.dtype.kind not in "ui" or raw.size == 0:
        raise InputError(f"bit depth is read from integer samples, got {raw.dtype}")
    nonzero = raw[raw > 0].astype(np.int64)
    # the lowest set bit over all values: 0 unless the container pads them with zero low bits
    shift = min((int(v) & -int(v)).bit_length() - 1 for v in np.unique(nonzero)) if nonzero.size else 0
    top = int(raw.max()) >> shift
    container = raw.dtype.itemsize * 8
    bits = next((b for b in ADC_DEPTHS if top < 2**b), container)  # the smallest common depth that holds them
    return min(bits, container - shift), shift


def lowest_samples(images: list[np.ndarray]) -> float:
    """The 0.01 % quantile of every sample: near -3.7 read-noise sigma when the black level was right and
    the captures hold dark areas, well above 0 when a pedestal was left in (a hint, not an estimate)."""
    return float(np.percentile(np.concatenate([np.ravel(x) for x in images]), 0.01))


@dataclass
class SensorCalibration:
    """What ``calibrate sensor`` found: the camera with its ``sensor:`` section, each channel's fit, the ADC
    depth and container shift, the black level used and the lowest samples."""

    camera: object
    fits: list[NoiseFit]
    bits: int
    shift: int
    black_level: float  # as given (full scale)
    route: str  # "single images" or "stack"
    bits_guessed: bool = False  # the depth came from the largest sample (no bit_depth, no container padding)
    lowest: float = 0.0  # the 0.01 % quantile of the samples after the black level (full scale)


def read_raw(path, camera) -> np.ndarray:
    """A capture's integer samples: (H, W) for a DoFP camera's raw mosaic, or (H, W, 4).

    Raises:
        InputError: unreadable, not integer, or a mosaic without a DoFP pattern in the camera.
    """
    from polaraug.io.images import read_image

    img = read_image(path)
    if img.dtype.kind not in "ui":
        raise InputError(f"{path}: noise is measured on the camera's integer samples, got {img.dtype}")
    if img.ndim == 2 and camera.dofp_pattern is None:
        raise InputError(f"{path}: a raw mosaic needs a camera with a dofp_pattern (--camera)")
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 4)):
        raise InputError(f"{path}: expected a raw mosaic (H, W) or 4 channels (H, W, 4), got shape {img.shape}")
    return img


def calibrate_sensor(paths: list, camera, *, stack: bool = False, name: str | None = None,
                     black_dn: float = 0.0) -> SensorCalibration:
    """Estimate the noise curve and ADC depth from captures, into a copy of ``camera``.

    Args:
        paths: capture files (raw mosaics or 4-channel), or with ``stack`` frames of one static scene.
        camera: the base camera (polarizer model, DoFP pattern; its bit depth when set).
        stack: treat the captures as repeated frames of one static scene (temporal statistics).
        name: the new camera's name (None: the base camera's).
        black_dn: the black level in ADC counts (the pedestal the samples carry; 0 for pedestal-free
            samples): subtracted before the fit, so that ``b`` is the read noise at zero signal, and
            written into the sensor model.

    Raises:
        InputError: unreadable captures, or captures that cannot support an estimate (saturated, no flat
            regions, one brightness level only, fewer than 2 frames for a stack).
    """
    import dataclasses

    from polaraug.physics.sensor import SensorModel

    raws = [read_raw(p, camera) for p in paths]
    if len({r.dtype for r in raws}) != 1:
        raise InputError(f"{paths[0]}: the captures mix sample types {sorted({str(r.dtype) for r in raws})}")
    bits, shift = detect_bits(np.concatenate([r.ravel() for r in raws]))
    guessed = camera.bit_depth is None and shift == 0
    if camera.bit_depth is not None:
        bits = camera.bit_depth
    elif shift:
        bits = raws[0].dtype.itemsize * 8 - shift  # MSB-aligned in the container: its padding says the depth
    top = float(2**bits - 1)
    black = black_dn / top
    images = [(r.astype(np.float64) / 2**shift) / top - black for r in raws]
    where = str(paths[0]) if len(paths) == 1 else f"{paths[0]} and {len(paths) - 1} more"
    fits = (estimate_from_stack if stack else estimate_from_images)(images, camera.dofp_pattern, where)
    model = SensorModel(noise_a=tuple(max(f.a, 0.0) for f in fits), noise_b=tuple(max(f.b, 0.0) for f in fits),
                        bits=bits if bits <= 16 else None, dofp_pattern=camera.dofp_pattern, black_level=black)
    cam = dataclasses.replace(camera, name=name or camera.name, bit_depth=bits, sensor=model, path=None,
                              source=f"noise from {len(paths)} capture(s), {'stack' if stack else 'single images'}")
    return SensorCalibration(cam, fits, bits, shift, black, "stack" if stack else "single images", guessed,
                             lowest_samples(images))


def plot_noise(cal: SensorCalibration, path) -> None:
    """Variance against signal per channel: the binned points and the fitted lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for c, fit in enumerate(cal.fits):
        ax.scatter(fit.means, fit.variances, s=12, color=f"C{c}", alpha=0.7)
        x = np.linspace(0, max(float(fit.means.max()), 1e-3), 50)
        ax.plot(x, fit.a * x + fit.b, color=f"C{c}", label=f"{CHANNELS[c]}: {fit.a:.3g} x + {fit.b:.3g}")
    ax.set_xlabel("signal (full scale)")
    ax.set_ylabel("noise variance")
    ax.set_title(f"{cal.route}, {cal.bits}-bit", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
