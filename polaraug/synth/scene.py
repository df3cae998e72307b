"""Random road scenes: a pinhole camera above a road, cuboid objects with materials, a sun and weather.

World coordinates: X right, Y up, Z forward (metres); the camera looks along +Z, pitched down slightly.
Every labelled object is one or more cuboids sharing an object id; unlabelled structure (buildings,
poles) has id -1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .domain import DEFAULT, WEATHER_NAMES, Domain

# name: (albedo RGB, refractive index n, specular weight k). k scales the mirror (Fresnel) term: 1 for
# smooth glass and clear-coat, small for rough surfaces whose reflection is spread out.
MATERIALS: dict[str, tuple[tuple[float, float, float], float, float]] = {
    "asphalt": ((0.10, 0.10, 0.11), 1.60, 0.12),
    "asphalt_wet": ((0.05, 0.05, 0.055), 1.33, 0.85),  # water film
    "lane_paint": ((0.75, 0.75, 0.72), 1.50, 0.10),
    "concrete": ((0.45, 0.44, 0.42), 1.50, 0.05),
    "glass": ((0.04, 0.045, 0.05), 1.52, 1.00),
    "car_paint": ((0.5, 0.5, 0.5), 1.50, 0.75),  # albedo replaced per car
    "cloth": ((0.3, 0.3, 0.3), 1.50, 0.03),  # albedo replaced per person
    "rubber": ((0.03, 0.03, 0.03), 1.50, 0.10),
    "metal_paint": ((0.25, 0.25, 0.27), 1.50, 0.30),
    "sign_face": ((0.8, 0.8, 0.8), 1.50, 0.25),  # albedo replaced per sign
    "facade": ((0.5, 0.45, 0.4), 1.50, 0.05),  # albedo replaced per building; windows are glass
}
MATERIAL_NAMES = tuple(MATERIALS)
MATERIAL_ID = {m: i for i, m in enumerate(MATERIAL_NAMES)}


@dataclass
class Part:
    """An axis-aligned cuboid [lo, hi] with a material (albedo None: the material's own); ``top`` and
    ``top_albedo`` override its +Y face (a car cabin: glass sides, painted roof); ``windows`` paints a grid
    of glass windows on its vertical faces (buildings)."""

    lo: np.ndarray
    hi: np.ndarray
    material: str
    albedo: tuple[float, float, float] | None = None
    top: str | None = None
    top_albedo: tuple[float, float, float] | None = None
    windows: bool = False
    obj: int = -1


@dataclass
class SceneObject:
    """A labelled object: canonical class and the ids of its parts."""

    obj: int
    cls: str


@dataclass
class PinholeCamera:
    """The geometric pinhole camera that renders a scene (not a polarimetric calibration, which is
    :class:`polaraug.cameras.Camera`): image size, focal length in pixels, height above the road, pitch."""

    width: int
    height: int
    focal: float  # pixels
    height_m: float = 1.5
    pitch_rad: float = 0.03  # looking down

    @property
    def centre(self) -> np.ndarray:
        return np.array([0.0, self.height_m, 0.0])

    def axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(right, down, forward) unit vectors."""
        s, c = math.sin(self.pitch_rad), math.cos(self.pitch_rad)
        right = np.array([1.0, 0.0, 0.0])
        forward = np.array([0.0, -s, c])
        down = np.cross(right, forward)
        return right, down, forward

    def rays(self) -> np.ndarray:
        """Unit ray directions (H*W, 3) through pixel centres, row-major."""
        right, down, forward = self.axes()
        xs = (np.arange(self.width) + 0.5 - self.width / 2) / self.focal
        ys = (np.arange(self.height) + 0.5 - self.height / 2) / self.focal
        d = forward + xs[None, :, None] * right + ys[:, None, None] * down
        d = d.reshape(-1, 3)
        return d / np.linalg.norm(d, axis=1, keepdims=True)

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (N, 3) -> pixel coordinates (N, 2) and depth along the view axis (N,)."""
        right, down, forward = self.axes()
        v = points - self.centre
        z = v @ forward
        safe = np.where(z > 1e-6, z, 1e-6)
        x = self.width / 2 + self.focal * (v @ right) / safe
        y = self.height / 2 + self.focal * (v @ down) / safe
        return np.stack([x, y], axis=1), z


@dataclass
class Weather:
    """Illumination and atmosphere. ``name`` is a BDD100K weather value; ``night`` sets timeofday."""

    name: str
    night: bool
    sun: np.ndarray  # unit vector towards the sun
    sun_irradiance: float
    ambient: float
    sky_rgb: tuple[float, float, float]
    sky_dolp_max: float
    fog_density: float  # extinction per metre
    airlight_rgb: tuple[float, float, float]
    wet_road: bool


@dataclass
class Scene:
    """Everything the renderer needs; ``materials`` is the material table (scene.MATERIALS, or a domain's
    version of it)."""

    camera: PinholeCamera
    weather: Weather
    road_half_width: float
    sidewalk_width: float
    parts: list[Part] = field(default_factory=list)
    objects: list[SceneObject] = field(default_factory=list)
    materials: dict[str, tuple[tuple[float, float, float], float, float]] = field(
        default_factory=lambda: dict(MATERIALS))


def frame_materials(domain: Domain, rng: np.random.Generator) -> dict[str, tuple[tuple[float, float, float], float,
                                                                                 float]]:
    """One frame's material table: the domain's, each material's parameters scaled by the domain's
    per-frame randomisation (no draw when it has none, so a seed's frames stay as they were).

    Args:
        domain: a rendering domain (``index_jitter``, ``specular_scale``, ``albedo_jitter``).
        rng: the frame's generator.

    Returns:
        {material name: (albedo RGB, refractive index, specular weight)}, every name of MATERIAL_NAMES.
    """
    table = domain_materials(domain)
    if not domain.randomises_materials:
        return table
    j, a = domain.index_jitter, domain.albedo_jitter
    out = {}
    for name, (albedo, n, k) in table.items():  # a fixed order of draws: MATERIAL_NAMES, then five per material
        f_n, f_k = rng.uniform(1 - j, 1 + j), rng.uniform(*domain.specular_scale)
        f_a = rng.uniform(1 - a, 1 + a, 3)
        out[name] = (tuple(float(v) for v in np.clip(np.asarray(albedo) * f_a, 0.0, 0.95)),
                     float(1 + (n - 1) * f_n), float(min(1.0, k * f_k)))
    return out


def domain_materials(domain: Domain) -> dict[str, tuple[tuple[float, float, float], float, float]]:
    """The material table of ``domain``: scene.MATERIALS with the domain's overrides.

    Args:
        domain: a rendering domain.

    Returns:
        {material name: (albedo RGB, refractive index, specular weight)}, every name of MATERIAL_NAMES.
    """
    unknown = sorted(set(domain.materials) - set(MATERIALS))
    if unknown:
        raise ValueError(f"domain {domain.name!r} overrides unknown materials {unknown}")
    return {**MATERIALS, **domain.materials}


WEATHERS = WEATHER_NAMES


def random_weather(rng: np.random.Generator, name: str | None = None, night: bool | None = None,
                   domain: Domain = DEFAULT) -> Weather:
    """Weather preset with random sun position, drawn from ``domain``'s distribution.

    Args:
        rng: the frame's generator.
        name: one of WEATHERS, or None to draw it with the domain's ``weather_p``.
        night: timeofday; None draws night with probability 0.2.
        domain: the rendering domain (sun elevation, wet roads, sky DoLP scale).

    Returns:
        The :class:`Weather`.
    """
    name = name or str(rng.choice(WEATHERS, p=list(domain.weather_p)))
    night = bool(rng.random() < 0.2) if night is None else night
    lo, hi = domain.sun_elevation_deg
    elev, azim = math.radians(rng.uniform(lo, hi)), math.radians(rng.uniform(-120, 120))
    sun = np.array([math.cos(elev) * math.sin(azim), math.sin(elev), math.cos(elev) * math.cos(azim)])
    if name == "clear":
        w = dict(sun_irradiance=1.0, ambient=0.35, sky_rgb=(0.45, 0.6, 0.9), sky_dolp_max=0.7, fog_density=0.0)
    elif name == "overcast":
        w = dict(sun_irradiance=0.0, ambient=0.7, sky_rgb=(0.7, 0.72, 0.75), sky_dolp_max=0.1, fog_density=0.0)
    elif name == "foggy":
        w = dict(sun_irradiance=0.0, ambient=0.6, sky_rgb=(0.75, 0.76, 0.78), sky_dolp_max=0.02,
                 fog_density=float(rng.uniform(0.03, 0.08)))
    elif name == "rainy":
        w = dict(sun_irradiance=0.0, ambient=0.5, sky_rgb=(0.55, 0.57, 0.6), sky_dolp_max=0.08,
                 fog_density=float(rng.uniform(0.005, 0.015)))
    else:
        raise ValueError(f"unknown weather {name!r}; choose one of {WEATHERS}")
    if night:  # no sunlight; dim unpolarized ambient (street lights) and a dark sky
        w.update(sun_irradiance=0.0, ambient=w["ambient"] * 0.08,
                 sky_rgb=tuple(0.03 * c for c in w["sky_rgb"]), sky_dolp_max=0.0)
    # Draw only for a domain that randomises the sky, so the other domains' random streams are unchanged.
    sky_scale = domain.sky_dolp_scale if domain.sky_dolp_scale_range is None else rng.uniform(
        *domain.sky_dolp_scale_range)
    w["sky_dolp_max"] *= float(sky_scale)
    airlight = tuple(0.85 * c for c in w["sky_rgb"])
    p_wet = domain.wet_road_p[WEATHERS.index(name)]
    # Draw only when the outcome is uncertain, so the default domain's random stream is unchanged.
    wet = bool(rng.random() < p_wet) if 0 < p_wet < 1 else p_wet >= 1
    return Weather(name=name, night=night, sun=sun, airlight_rgb=airlight, wet_road=wet, **w)


def _box(x: float, y: float, z: float, w: float, h: float, d: float) -> tuple[np.ndarray, np.ndarray]:
    """Cuboid centred at (x, z) on the ground at height y, size (w, h, d)."""
    return np.array([x - w / 2, y, z - d / 2]), np.array([x + w / 2, y + h, z + d / 2])


def _colour(rng: np.random.Generator, lo: float = 0.05, hi: float = 0.8) -> tuple[float, float, float]:
    return tuple(float(v) for v in rng.uniform(lo, hi, 3))


def _paint(rng: np.random.Generator, domain: Domain) -> tuple[float, float, float]:
    """A vehicle paint colour: uniform random, or from the domain's palette with a little jitter."""
    if domain.paint_palette is None:
        return _colour(rng)
    k = int(rng.choice(len(domain.paint_palette), p=domain.paint_weights))
    jitter = rng.uniform(-domain.paint_jitter, domain.paint_jitter, 3)
    return tuple(float(v) for v in np.clip(np.asarray(domain.paint_palette[k]) + jitter, 0.01, 0.95))


def random_scene(rng: np.random.Generator, width: int, height: int, weather: Weather | None = None,
                 domain: Domain = DEFAULT) -> Scene:
    """A road with buildings, cars, trucks, buses, pedestrians, cyclists, signs and traffic lights.

    Args:
        rng: the frame's generator.
        width, height: image size in pixels.
        weather: the weather; None draws one from ``domain``.
        domain: the rendering domain (material table, vehicle paint colours).

    Returns:
        The :class:`Scene`.
    """
    # The order of the generator's draws is what a seed means: the steps below run in a fixed order, each
    # drawing only its own values, so every dataset rendered before stays reproducible.
    cam = PinholeCamera(width, height, focal=0.9 * width, height_m=float(rng.uniform(1.3, 1.7)),
                 pitch_rad=float(rng.uniform(0.0, 0.06)))
    scene = Scene(cam, weather or random_weather(rng, domain=domain), road_half_width=float(rng.uniform(3.5, 7.0)),
                  sidewalk_width=float(rng.uniform(2.0, 4.0)), materials=frame_materials(domain, rng))
    _add_buildings(scene, rng)
    add = _object_adder(scene)
    _add_vehicles(scene, rng, domain, add)
    _add_people(scene, rng, add)
    _add_poles(scene, rng, add)
    return scene


def _object_adder(scene: Scene):
    """``add(cls, parts)``: the parts as one labelled object with the next object id."""
    nxt = iter(range(10_000))

    def add(cls: str, parts: list[Part]) -> None:
        oid = next(nxt)
        for p in parts:
            p.obj = oid
        scene.parts.extend(parts)
        scene.objects.append(SceneObject(oid, cls))

    return add


def _add_buildings(scene: Scene, rng: np.random.Generator) -> None:
    """Facades along both sides of the road (unlabelled), with glass windows."""
    edge = scene.road_half_width + scene.sidewalk_width
    for side in (-1, 1):
        z = float(rng.uniform(2, 8))
        while z < 120:
            depth, h = float(rng.uniform(8, 25)), float(rng.uniform(6, 30))
            lo = np.array([side * edge if side > 0 else -edge - 15, 0.0, z])
            hi = np.array([edge + 15 if side > 0 else -edge, h, z + depth])
            scene.parts.append(Part(lo, hi, "facade", _colour(rng, 0.25, 0.7), windows=True))
            z += depth + float(rng.uniform(0, 4))


def _add_vehicles(scene: Scene, rng: np.random.Generator, domain: Domain, add) -> None:
    """Cars, trucks and buses in the lanes."""
    n_lanes = max(2, int(2 * scene.road_half_width // 3.5))
    lane_x = [-scene.road_half_width + (i + 0.5) * 2 * scene.road_half_width / n_lanes for i in range(n_lanes)]
    for _ in range(int(rng.integers(2, 9))):
        kind = str(rng.choice(["car", "car", "car", "truck", "bus"]))
        x = float(rng.choice(lane_x)) + float(rng.uniform(-0.4, 0.4))
        z = float(rng.uniform(6, 70))
        w, h, d = {"car": (1.8, 1.45, 4.4), "truck": (2.4, 3.2, 7.0), "bus": (2.5, 3.1, 11.0)}[kind]
        w, h, d = (v * float(rng.uniform(0.9, 1.1)) for v in (w, h, d))
        paint = _paint(rng, domain)
        if kind == "car":
            body = Part(*_box(x, 0.3, z, w, 0.65, d), "car_paint", paint)
            cabin = Part(*_box(x, 0.95, z + 0.2, w * 0.9, h - 0.95, d * 0.55), "glass", top="car_paint",
                         top_albedo=paint)
            wheels = Part(*_box(x, 0.0, z, w * 0.95, 0.3, d * 0.8), "rubber")
            add("car", [body, cabin, wheels])
        else:
            body = Part(*_box(x, 0.4, z, w, h - 0.4, d), "car_paint", paint, windows=kind == "bus")
            wheels = Part(*_box(x, 0.0, z, w * 0.95, 0.4, d * 0.85), "rubber")
            add(kind, [body, wheels])


def _add_people(scene: Scene, rng: np.random.Generator, add) -> None:
    """Pedestrians on the sidewalks, cyclists (bicycle and rider) at the road edge."""
    for _ in range(int(rng.integers(0, 7))):
        side = float(rng.choice([-1, 1]))
        x = side * (scene.road_half_width + float(rng.uniform(0.3, scene.sidewalk_width - 0.3)))
        z = float(rng.uniform(4, 40))
        add("pedestrian", [Part(*_box(x, 0.0, z, 0.5, float(rng.uniform(1.5, 1.9)), 0.35), "cloth",
                                _colour(rng))])
    for _ in range(int(rng.integers(0, 3))):
        side = float(rng.choice([-1, 1]))
        x, z = side * (scene.road_half_width - 0.6), float(rng.uniform(6, 40))
        add("bicycle", [Part(*_box(x, 0.0, z, 0.15, 0.95, 1.7), "metal_paint", _colour(rng))])
        add("rider", [Part(*_box(x, 0.9, z - 0.1, 0.45, 0.85, 0.4), "cloth", _colour(rng))])


def _add_poles(scene: Scene, rng: np.random.Generator, add) -> None:
    """Traffic signs and lights on poles at the kerb (the poles are unlabelled)."""
    for _ in range(int(rng.integers(0, 4))):
        side = float(rng.choice([-1, 1]))
        x, z = side * (scene.road_half_width + 0.4), float(rng.uniform(8, 50))
        scene.parts.append(Part(*_box(x, 0.0, z, 0.08, 2.2, 0.08), "metal_paint"))
        if rng.random() < 0.6:
            face = _colour(rng, 0.1, 0.9)
            add("traffic sign", [Part(*_box(x, 2.2, z, 0.7, 0.7, 0.05), "sign_face", face)])
        else:
            add("traffic light", [Part(*_box(x, 2.2, z, 0.35, 0.9, 0.3), "metal_paint", (0.05, 0.05, 0.05))])
