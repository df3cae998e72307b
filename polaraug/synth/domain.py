"""Rendering domains: named presets of everything that sets the distribution of ``polaraug synth`` frames.

A domain is one small dataclass: the polarimetric camera (a calibration file), the sensor (bit depth, DoFP
mosaic, noise) and the scene distribution (weather mix, sun elevation, wet roads, sky polarization,
material parameters, car colours). ``polaraug synth --domain NAME`` picks one; explicit options
(``--camera``, ``--bits``, ``--dofp/--no-dofp``) still override the camera and sensor parts.

``default`` is the distribution the translator is pretrained on (paired renders). ``shifted`` is a
different polarimetric domain for an honest built-in benchmark: a "real" camera whose frames do not come
from the pretraining renderer's own distribution (docs/data.md, "The shifted domain").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from polaraug.errors import InputError

WEATHER_NAMES = ("clear", "overcast", "foggy", "rainy")  # the order of every per-weather tuple below

# The per-frame randomisation fields and their values that turn it off (added after sets had been made with
# the other domains: at these values they are left out of the settings digest).
PER_FRAME_OFF = {"index_jitter": 0.0, "specular_scale": (1.0, 1.0), "albedo_jitter": 0.0,
                 "sky_dolp_scale_range": None}

# A material's parameters: (albedo RGB, refractive index n, specular weight k); see scene.MATERIALS.
MaterialParams = tuple[tuple[float, float, float], float, float]


@dataclass(frozen=True)
class Domain:
    """What a rendering domain changes. Per-weather tuples follow WEATHER_NAMES (clear, overcast, foggy,
    rainy).

    camera: calibration file or built-in name of the polarimetric camera; bits: polarimetric bit depth;
    dofp: simulate the camera's DoFP mosaic (noise per raw sample, then bilinear demosaicing);
    read_noise, shot_noise: sensor noise (variance = shot * x + read², [0, 1] units; RGB and polarimetric);
    weather_p: probability of each weather when ``--weather mixed``;
    sun_elevation_deg: (lo, hi) of the uniform sun elevation;
    wet_road_p: probability of a wet road (a water film) per weather;
    sky_dolp_scale: factor on the maximum Rayleigh DoLP of the sky (haze depolarizes);
    materials: overrides of scene.MATERIALS, {name: (albedo RGB, n, k)};
    paint_palette: car/truck/bus paint colours to pick from (with ``paint_jitter``), or None for uniform
    random colours in [0.05, 0.8] per channel;
    paint_weights: probability of each palette colour (None: equal);
    index_jitter: per frame and material, (n - 1) scaled by a uniform factor in [1 - j, 1 + j] (0: fixed);
    specular_scale: per frame and material, the specular weight k scaled by a uniform factor in (lo, hi),
    clipped to [0, 1] ((1, 1): fixed);
    albedo_jitter: per frame and material, each albedo channel scaled by a uniform factor in [1 - j, 1 + j]
    (0: fixed; colours drawn per object, such as car paint, are drawn as before);
    sky_dolp_scale_range: per frame, a uniform factor in (lo, hi) in place of ``sky_dolp_scale`` (None: fixed).
    """

    name: str
    description: str = ""
    camera: str = "ideal"
    bits: int = 16
    dofp: bool = False
    read_noise: float = 0.002
    shot_noise: float = 0.0005
    weather_p: tuple[float, float, float, float] = (0.4, 0.25, 0.15, 0.2)
    sun_elevation_deg: tuple[float, float] = (15.0, 60.0)
    wet_road_p: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    sky_dolp_scale: float = 1.0
    materials: dict[str, MaterialParams] = field(default_factory=dict)
    paint_palette: tuple[tuple[float, float, float], ...] | None = None
    paint_weights: tuple[float, ...] | None = None
    paint_jitter: float = 0.03
    index_jitter: float = 0.0
    specular_scale: tuple[float, float] = (1.0, 1.0)
    albedo_jitter: float = 0.0
    sky_dolp_scale_range: tuple[float, float] | None = None

    @property
    def randomises_materials(self) -> bool:
        """Whether each frame draws its own material table."""
        return any(getattr(self, k) != PER_FRAME_OFF[k] for k in ("index_jitter", "specular_scale", "albedo_jitter"))

    def __post_init__(self) -> None:
        for name in ("weather_p", "wet_road_p"):
            v = getattr(self, name)
            if len(v) != len(WEATHER_NAMES) or any(not 0 <= p <= 1 for p in v):
                raise InputError(f"domain {self.name!r}: {name} needs {len(WEATHER_NAMES)} probabilities, got {v}")
        if abs(sum(self.weather_p) - 1) > 1e-9:
            raise InputError(f"domain {self.name!r}: weather_p must sum to 1, got {self.weather_p}")
        lo, hi = self.sun_elevation_deg
        if not 0 < lo <= hi < 90:
            raise InputError(f"domain {self.name!r}: sun_elevation_deg must satisfy 0 < lo <= hi < 90")
        if not (0 <= self.index_jitter < 1 and 0 <= self.albedo_jitter < 1):
            raise InputError(f"domain {self.name!r}: index_jitter and albedo_jitter must be in [0, 1)")
        for name in ("specular_scale", "sky_dolp_scale_range"):
            v = getattr(self, name)
            if v is not None and not (len(v) == 2 and 0 <= v[0] <= v[1]):
                raise InputError(f"domain {self.name!r}: {name} must be (lo, hi) with 0 <= lo <= hi, got {v}")
        if self.paint_palette is not None and self.paint_weights is not None and (
                len(self.paint_weights) != len(self.paint_palette) or abs(sum(self.paint_weights) - 1) > 1e-9):
            raise InputError(f"domain {self.name!r}: paint_weights must have one weight per palette colour "
                             "and sum to 1")

    def to_dict(self) -> dict:
        """Plain dict (for manifests and the settings digest).

        Returns:
            Every field, tuples as lists, except the per-frame randomisation fields at their fixed values
            (:data:`PER_FRAME_OFF`): a domain without randomisation keeps the digest its sets were made with.
        """
        return without_randomisation_off(_json_ready(dataclasses.asdict(self)))


def without_randomisation_off(settings: dict) -> dict:
    """Domain settings as written (:meth:`Domain.to_dict`, tuples as lists) without the per-frame
    randomisation fields at their off values (:data:`PER_FRAME_OFF`): a domain's settings compare equal
    whether a record lists those fields switched off or leaves them out."""
    off = _json_ready(PER_FRAME_OFF)
    return {k: v for k, v in settings.items() if k not in off or v != off[k]}


def _json_ready(x):
    """Tuples -> lists, recursively (dicts and lists kept), so a dict reads back as written."""
    if isinstance(x, dict):
        return {k: _json_ready(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_ready(v) for v in x]
    return x


DEFAULT = Domain(
    name="default",
    description="The pretraining renderer: ideal camera, 16-bit, no mosaic; mostly clear weather.",
)

SHIFTED = Domain(
    name="shifted",
    description="A non-ideal 12-bit DoFP camera (calibration/shifted_dofp.yaml) under more overcast and wet "
                "weather, a low sun, hazier sky, matte car paint from a real-world colour palette, lighter "
                "asphalt, yellow lane paint and greener glass.",
    camera="shifted_dofp",
    bits=12,
    dofp=True,
    read_noise=0.003,  # a smaller full well and a noisier read-out than the default sensor
    shot_noise=0.001,
    weather_p=(0.15, 0.40, 0.15, 0.30),
    sun_elevation_deg=(5.0, 35.0),
    wet_road_p=(0.0, 0.5, 0.5, 1.0),
    sky_dolp_scale=0.75,
    materials={
        "asphalt": ((0.16, 0.16, 0.165), 1.60, 0.08),  # older, lighter and rougher
        "lane_paint": ((0.78, 0.68, 0.30), 1.50, 0.10),  # yellow markings
        "glass": ((0.045, 0.06, 0.05), 1.50, 1.00),  # green-tinted float glass
        "car_paint": ((0.5, 0.5, 0.5), 1.55, 0.45),  # less glossy clear-coat
    },
    paint_palette=((0.80, 0.80, 0.80), (0.04, 0.04, 0.045), (0.55, 0.56, 0.58), (0.30, 0.30, 0.32),
                   (0.55, 0.06, 0.05), (0.08, 0.15, 0.45)),  # white, black, silver, grey, red, blue
    paint_weights=(0.25, 0.20, 0.20, 0.15, 0.10, 0.10),
)

WIDE = Domain(
    name="wide",
    description="The default renderer with wider scene randomisation, for training translators: roads still "
                "wet under overcast and foggy skies after rain (not only while it rains), the sun from 5 to 60 "
                "degrees, more overcast weather.",
    weather_p=(0.30, 0.30, 0.15, 0.25),
    sun_elevation_deg=(5.0, 60.0),
    wet_road_p=(0.15, 0.5, 0.5, 1.0),
)

RANDOMISED = Domain(
    name="randomised",
    description="The wide domain with per-frame material and sky randomisation, for training translators: "
                "every material's refractive index, specular weight and albedo, and the sky's degree of "
                "polarization, drawn anew for each frame around the default values.",
    weather_p=WIDE.weather_p,
    sun_elevation_deg=WIDE.sun_elevation_deg,
    wet_road_p=WIDE.wet_road_p,
    index_jitter=0.2,  # glass and paint n from 1.4 to 1.6, water from 1.26 to 1.40
    specular_scale=(0.5, 1.3),  # from half as glossy to a third more (clipped at a mirror's 1)
    albedo_jitter=0.3,
    sky_dolp_scale_range=(0.6, 1.0),  # hazier skies depolarize
)

DOMAINS: dict[str, Domain] = {d.name: d for d in (DEFAULT, SHIFTED, WIDE, RANDOMISED)}


def get_domain(name: str | Domain) -> Domain:
    """A domain by name (or the domain itself).

    Args:
        name: a name of DOMAINS ("default", "shifted", "wide", "randomised"), or a :class:`Domain`.

    Returns:
        The :class:`Domain`.

    Raises:
        InputError: unknown name.
    """
    if isinstance(name, Domain):
        return name
    if name not in DOMAINS:
        raise InputError(f"unknown domain {name!r}; choose one of {', '.join(DOMAINS)}")
    return DOMAINS[name]
