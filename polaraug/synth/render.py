"""Ray-cast a scene into paired linear RGB radiance and monochrome Stokes vectors, plus exact boxes.

Per pixel: the nearest cuboid or the ground plane, else sky. Surface light = diffuse (albedo x (sun +
ambient), weakly polarized parallel to the plane of emission) + specular (Fresnel reflection of the sky
in the mirror direction, polarized perpendicular to the plane of incidence). Sky: Rayleigh polarization
from the sun. Fog: Koschmieder's law with unpolarized airlight. Stokes add up, so every pixel stays
admissible. Boxes are the tight pixel extents of each object's visible pixels (an id buffer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .optics import (
    cross,
    diffuse_dolp,
    dot,
    fresnel_reflectance,
    rayleigh_dolp,
    reflect,
    specular_dolp,
    stokes_of,
    unit,
)
from .scene import MATERIAL_ID, MATERIAL_NAMES, Part, Scene

LUMA = np.array([0.2126, 0.7152, 0.0722])  # monochrome polarization sensor response to linear RGB
FAR = 1e9


@dataclass(frozen=True)
class VisibleObject:
    """An object's tight box of visible pixels (continuous coordinates), the visible share of its
    unoccluded pixels, whether its projection leaves the image, its visible pixel count and median depth."""

    x1: float
    y1: float
    x2: float
    y2: float
    visible: float
    truncated: bool
    pixels: int
    depth: float


@dataclass
class Rendered:
    """rgb: (H, W, 3) linear radiance; stokes: (H, W, 3) monochrome, same units; ids: (H, W) object id or -1;
    material: (H, W) index into MATERIAL_NAMES or -1 (sky); normal: (H, W, 3); depth: (H, W) ray length;
    boxes: {object id: VisibleObject} for every object with at least one visible pixel."""

    rgb: np.ndarray
    stokes: np.ndarray
    ids: np.ndarray
    depth: np.ndarray
    material: np.ndarray
    normal: np.ndarray
    boxes: dict[int, VisibleObject]


def _pixel_subset(scene: Scene, part: Part) -> np.ndarray | None:
    """Flat indices of pixels inside the part's projected bounding rectangle (None: all pixels)."""
    cam = scene.camera
    corners = np.array([[x, y, z] for x in (part.lo[0], part.hi[0]) for y in (part.lo[1], part.hi[1])
                        for z in (part.lo[2], part.hi[2])])
    xy, depth = cam.project(corners)
    if np.any(depth <= 0.05):
        return None
    x0, y0 = np.floor(xy.min(axis=0)).astype(int)
    x1, y1 = np.ceil(xy.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1 + 1, cam.width), min(y1 + 1, cam.height)
    if x0 >= x1 or y0 >= y1:
        return np.empty(0, dtype=np.int64)
    ys, xs = np.mgrid[y0:y1, x0:x1]
    return (ys * cam.width + xs).ravel()


def _intersect(origin: np.ndarray, dirs: np.ndarray, inv: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """Slab test for rays ``dirs`` (N, 3) with precomputed 1/dirs: (t_hit (N,), face axis (N,), face sign
    (N,)); t_hit = FAR where the ray misses."""
    t1, t2 = (lo - origin) * inv, (hi - origin) * inv
    near, far = np.minimum(t1, t2), np.maximum(t1, t2)
    # Reductions over a length-3 axis are slow in numpy; compare the columns explicitly.
    nx, ny, nz = near[:, 0], near[:, 1], near[:, 2]
    t_near = np.maximum(np.maximum(nx, ny), nz)
    t_far = np.minimum(np.minimum(far[:, 0], far[:, 1]), far[:, 2])
    axis = np.where(t_near == nx, 0, np.where(t_near == ny, 1, 2))
    hit = (t_far >= t_near) & (t_near > 1e-6)
    sign = -np.sign(np.take_along_axis(dirs, axis[:, None], axis=1)[:, 0])
    return np.where(hit, t_near, FAR), axis, sign


def _window_mask(points: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Glass windows on vertical faces: a grid 2.5 m wide, 3 m high."""
    u = np.where(axis == 0, points[:, 2], points[:, 0])
    fu, fv = np.mod(u / 2.5, 1.0), np.mod(points[:, 1] / 3.0, 1.0)
    return (axis != 1) & (fu > 0.2) & (fu < 0.8) & (fv > 0.3) & (fv < 0.85) & (points[:, 1] > 1.0)


def render(scene: Scene) -> Rendered:
    """Ray-cast ``scene``.

    Args:
        scene: camera, weather, parts and objects, material table.

    Returns:
        The :class:`Rendered` radiance (RGB and Stokes), id, depth, material and normal buffers, boxes.
    """
    cam = scene.camera
    h, w = cam.height, cam.width
    dirs = cam.rays().astype(np.float32)  # float32 halves the memory traffic of every step below
    origin = cam.centre.astype(np.float32)
    buf = _Buffers.empty(h * w)
    _ground(scene, origin, dirs, buf)
    amodal = _parts(scene, origin, dirs, buf)
    rgb, stokes = _shade(scene, dirs, buf.depth, buf.normal, buf.mat, buf.albedo)
    rgb, stokes = _fog(scene, buf.depth, rgb, stokes)
    full = {k: np.unique(np.concatenate(v)).size for k, v in amodal.items()}
    boxes = _boxes(scene, buf.ids.reshape(h, w), buf.depth.reshape(h, w), full)
    return Rendered(rgb.reshape(h, w, 3), stokes.reshape(h, w, 3), buf.ids.reshape(h, w), buf.depth.reshape(h, w),
                    buf.mat.reshape(h, w), buf.normal.reshape(h, w, 3), boxes)


@dataclass
class _Buffers:
    """Per-pixel buffers of the nearest surface so far, filled in place (N = H * W pixels)."""

    depth: np.ndarray  # (N,) float32, FAR where nothing was hit
    normal: np.ndarray  # (N, 3) float32
    mat: np.ndarray  # (N,) int64 material id, -1 for sky
    albedo: np.ndarray  # (N, 3) float32
    ids: np.ndarray  # (N,) int64 object id, -1 for none

    @classmethod
    def empty(cls, n_pix: int) -> _Buffers:
        return cls(np.full(n_pix, FAR, dtype=np.float32), np.zeros((n_pix, 3), dtype=np.float32),
                   np.full(n_pix, -1, dtype=np.int64), np.zeros((n_pix, 3), dtype=np.float32),
                   np.full(n_pix, -1, dtype=np.int64))


def _ground(scene: Scene, origin: np.ndarray, dirs: np.ndarray, buf: _Buffers) -> None:
    """The ground plane y = 0 into ``buf``: asphalt (wet or dry) with lane markings, concrete sidewalks."""
    mats = scene.materials
    with np.errstate(divide="ignore"):
        t_ground = np.where(dirs[:, 1] < -1e-6, -origin[1] / dirs[:, 1], FAR)
    g = t_ground < FAR
    buf.depth[g] = t_ground[g]
    buf.normal[g] = (0.0, 1.0, 0.0)
    gp = origin + dirs[g] * t_ground[g, None]
    road = "asphalt_wet" if scene.weather.wet_road else "asphalt"
    ground_mat = np.where(np.abs(gp[:, 0]) > scene.road_half_width, MATERIAL_ID["concrete"], MATERIAL_ID[road])
    lane = (np.abs(np.mod(gp[:, 0] + scene.road_half_width, 3.5) - 1.75) > 1.65) & (np.mod(gp[:, 2], 9.0) < 3.0)
    lane &= np.abs(gp[:, 0]) < scene.road_half_width - 0.5
    ground_mat = np.where(lane, MATERIAL_ID["lane_paint"], ground_mat)
    buf.mat[g] = ground_mat
    buf.albedo[g] = np.array([mats[m][0] for m in MATERIAL_NAMES])[ground_mat]


def _parts(scene: Scene, origin: np.ndarray, dirs: np.ndarray, buf: _Buffers) -> dict[int, list[np.ndarray]]:
    """Every box part into ``buf`` where it is nearer than what is there (a depth test).

    Returns:
        Per object, the pixels each of its parts covers when nothing occludes it (for occlusion levels).
    """
    mats = scene.materials
    # No ray component is exactly 0 (pixel centres are off-axis), so 1/dirs is finite.
    inv = 1.0 / np.where(dirs == 0, 1e-12, dirs)
    all_pix = np.arange(buf.depth.size)
    amodal: dict[int, list[np.ndarray]] = {}
    for part in scene.parts:
        sub = _pixel_subset(scene, part)
        idx = all_pix if sub is None else sub
        if idx.size == 0:
            continue
        t, axis, sign = _intersect(origin, dirs[idx], inv[idx], part.lo, part.hi)
        if part.obj >= 0:
            amodal.setdefault(part.obj, []).append(idx[t < FAR])
        closer = t < buf.depth[idx]
        if not closer.any():
            continue
        idx, t, axis, sign = idx[closer], t[closer], axis[closer], sign[closer]
        buf.depth[idx] = t
        nrm = np.zeros((idx.size, 3), dtype=np.float32)
        nrm[np.arange(idx.size), axis] = sign
        buf.normal[idx] = nrm
        m = np.full(idx.size, MATERIAL_ID[part.material])
        base = np.array(part.albedo if part.albedo is not None else mats[part.material][0])
        alb = np.broadcast_to(base, (idx.size, 3)).copy()
        if part.top is not None:
            top = (axis == 1) & (sign > 0)
            m[top] = MATERIAL_ID[part.top]
            alb[top] = part.top_albedo if part.top_albedo is not None else mats[part.top][0]
        if part.windows:
            win = _window_mask(origin + dirs[idx] * t[:, None], axis)
            m[win] = MATERIAL_ID["glass"]
            alb[win] = mats["glass"][0]
        buf.mat[idx] = m
        buf.albedo[idx] = alb
        buf.ids[idx] = part.obj
    return amodal


def _sky(scene: Scene, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sky radiance RGB (N, 3), DoLP (N,) and E-direction (N, 3) along view directions ``dirs``."""
    wx = scene.weather
    elev = np.clip(dirs[:, 1], 0.0, 1.0)
    base = np.asarray(wx.sky_rgb)
    rgb = base[None] * (0.75 + 0.5 * elev[:, None])  # brighter towards the zenith... and the horizon haze
    cos_g = dirs @ wx.sun
    dolp = rayleigh_dolp(cos_g, wx.sky_dolp_max)
    e = unit(cross(dirs, wx.sun.astype(np.float32)))  # perpendicular to the scattering plane
    return rgb, dolp, e


def _shade(scene: Scene, dirs, depth, normal, mat, albedo) -> tuple[np.ndarray, np.ndarray]:
    cam, wx, mats = scene.camera, scene.weather, scene.materials
    right, down, _ = cam.axes()
    up = -down
    n_pix = dirs.shape[0]
    rgb = np.zeros((n_pix, 3), dtype=np.float32)
    stokes = np.zeros((n_pix, 3), dtype=np.float32)
    sky = mat < 0
    s_rgb, s_dolp, s_e = _sky(scene, dirs[sky])
    rgb[sky] = s_rgb
    stokes[sky] = stokes_of(s_rgb @ LUMA, s_dolp, s_e, right, up)

    surf = ~sky
    v = dirs[surf]
    nrm = normal[surf]
    idx_n = np.array([mats[m][1] for m in MATERIAL_NAMES])[mat[surf]]
    k_spec = np.array([mats[m][2] for m in MATERIAL_NAMES])[mat[surf]]
    cos_i = np.clip(-dot(v, nrm), 0.0, 1.0)  # incidence = emission angle towards the camera
    # Diffuse: Lambert under sun + ambient; polarized parallel to the plane of emission.
    irr = wx.ambient + wx.sun_irradiance * np.clip(nrm @ wx.sun, 0.0, None)
    e_s = unit(cross(nrm, v))  # perpendicular to the plane of incidence
    e_p = unit(cross(e_s, v))  # in the plane, perpendicular to the ray
    rho_d = diffuse_dolp(cos_i, idx_n)
    # Specular: the sky (or the ground) in the mirror direction, times Fresnel reflectance.
    r = reflect(v, nrm)
    env_rgb, _, _ = _sky(scene, r)
    env_rgb = np.where(r[:, 1:2] > 0, env_rgb, 0.08 * (wx.ambient + wx.sun_irradiance))
    rs, rp = fresnel_reflectance(cos_i, idx_n)
    refl = k_spec * 0.5 * (rs + rp)
    spec_rgb = env_rgb * refl[:, None]
    diff_rgb = albedo[surf] * (irr * (1.0 - refl))[:, None]  # what is reflected does not enter the surface
    rho_s = specular_dolp(cos_i, idx_n)
    rgb[surf] = diff_rgb + spec_rgb
    stokes[surf] = (stokes_of(diff_rgb @ LUMA, rho_d, e_p, right, up)
                    + stokes_of(spec_rgb @ LUMA, rho_s, e_s, right, up))
    return rgb, stokes


def _fog(scene: Scene, depth: np.ndarray, rgb: np.ndarray, stokes: np.ndarray):
    """Koschmieder: L = L_obj T + A (1 - T), T = exp(-β d); airlight unpolarized (sky pixels: d = ∞)."""
    beta = scene.weather.fog_density
    if beta <= 0:
        return rgb, stokes
    trans = np.exp(-beta * np.minimum(depth, 1e4))[:, None]
    air = np.asarray(scene.weather.airlight_rgb)
    rgb = rgb * trans + air[None] * (1.0 - trans)
    stokes = stokes * trans
    stokes[:, 0] += (air @ LUMA) * (1.0 - trans[:, 0])
    return rgb, stokes


def _boxes(scene: Scene, ids: np.ndarray, depth: np.ndarray, full: dict[int, int]) -> dict[int, VisibleObject]:
    """Tight boxes of visible pixels, the visible share of the unoccluded pixels, truncation, depth."""
    h, w = ids.shape
    ys, xs = np.nonzero(ids >= 0)
    if ys.size == 0:
        return {}
    obj = ids[ys, xs]
    order = np.argsort(obj, kind="stable")
    obj, ys, xs = obj[order], ys[order], xs[order]
    starts = np.flatnonzero(np.r_[True, obj[1:] != obj[:-1]])
    ends = np.r_[starts[1:], obj.size]
    x1s, x2s = np.minimum.reduceat(xs, starts), np.maximum.reduceat(xs, starts)
    y1s, y2s = np.minimum.reduceat(ys, starts), np.maximum.reduceat(ys, starts)
    out = {}
    cam = scene.camera
    for k, (start, end) in enumerate(zip(starts, ends, strict=True)):
        oid, count = int(obj[start]), int(end - start)
        corners = np.array([[x, y, z] for p in scene.parts if p.obj == oid for x in (p.lo[0], p.hi[0])
                            for y in (p.lo[1], p.hi[1]) for z in (p.lo[2], p.hi[2])])
        xy, _ = cam.project(corners)
        truncated = bool(xy[:, 0].min() < 0 or xy[:, 1].min() < 0 or xy[:, 0].max() > w or xy[:, 1].max() > h)
        out[oid] = VisibleObject(float(x1s[k]), float(y1s[k]), float(x2s[k] + 1), float(y2s[k] + 1),
                                 count / max(full.get(oid, count), 1), truncated, count,
                                 float(np.median(depth[ys[start:end], xs[start:end]])))
    return out
