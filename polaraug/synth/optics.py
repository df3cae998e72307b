"""Polarization optics of surfaces and sky: pure numpy functions on arrays of any shape.

Conventions: unit vectors are (..., 3) in world coordinates (X right, Y up, Z forward). A polarization
state is (intensity, DoLP, e) with e the unit vector of the E-field oscillation, perpendicular to the ray.
"""

from __future__ import annotations

import numpy as np


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product of (N, 3) arrays (or (N, 3) with (3,)) -> (N,)."""
    return np.einsum("ij,ij->i", a, np.broadcast_to(b, a.shape))


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (N, 3) with (N, 3) or (3,) (np.cross is ~3x slower on such shapes)."""
    b = np.broadcast_to(b, a.shape)
    out = np.empty_like(a)
    out[:, 0] = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    out[:, 1] = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    out[:, 2] = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    return out


def unit(v: np.ndarray) -> np.ndarray:
    """Normalise (N, 3) vectors; zero vectors stay zero."""
    n = np.sqrt(dot(v, v))[:, None]
    return np.divide(v, n, out=np.zeros_like(v), where=n > 0)


def fresnel_reflectance(cos_i: np.ndarray, n: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Power reflectances (Rs, Rp) of a dielectric of index n (from air) at incidence cosine cos_i."""
    cos_i = np.clip(cos_i, 0.0, 1.0)
    sin_t2 = (1.0 - cos_i**2) / np.square(n)
    cos_t = np.sqrt(np.clip(1.0 - sin_t2, 0.0, 1.0))
    rs = (cos_i - n * cos_t) / (cos_i + n * cos_t)
    rp = (n * cos_i - cos_t) / (n * cos_i + cos_t)
    return rs**2, rp**2


def specular_dolp(cos_i: np.ndarray, n: np.ndarray | float) -> np.ndarray:
    """DoLP of unpolarized light after specular reflection: (Rs - Rp) / (Rs + Rp); E perpendicular to the
    plane of incidence. 0 at normal incidence, 1 at Brewster's angle (arctan n)."""
    rs, rp = fresnel_reflectance(cos_i, n)
    return np.divide(rs - rp, rs + rp, out=np.zeros_like(rs), where=(rs + rp) > 0)


def diffuse_dolp(cos_e: np.ndarray, n: np.ndarray | float) -> np.ndarray:
    """DoLP of diffuse reflection leaving a dielectric at emission cosine cos_e (Atkinson & Hancock 2006);
    E parallel to the plane of emission. Weak: below 0.1 up to ~60° for n = 1.5."""
    sin2 = 1.0 - np.clip(cos_e, 0.0, 1.0) ** 2
    n2 = np.square(n)
    num = (n - 1.0 / n) ** 2 * sin2
    den = 2.0 + 2.0 * n2 - (n + 1.0 / n) ** 2 * sin2 + 4.0 * np.sqrt(1.0 - sin2) * np.sqrt(np.maximum(n2 - sin2, 0))
    return num / den


def rayleigh_dolp(cos_gamma: np.ndarray, dolp_max: float) -> np.ndarray:
    """Single-scattering sky polarization at scattering angle γ: dolp_max sin²γ / (1 + cos²γ)."""
    c2 = np.square(cos_gamma)
    return dolp_max * (1.0 - c2) / (1.0 + c2)


def reflect(v: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Mirror direction of ray direction v (..., 3) about normal (..., 3)."""
    return v - 2.0 * dot(v, normal)[:, None] * normal


def stokes_of(intensity: np.ndarray, dolp: np.ndarray, e: np.ndarray, right: np.ndarray,
              up: np.ndarray) -> np.ndarray:
    """Stokes (..., 3) of partially polarized light with E-direction e, seen by a camera with image axes
    ``right`` and ``up`` (world unit vectors): AoLP = atan2(e·up, e·right), counter-clockwise from +x as
    displayed (CONVENTIONS.md)."""
    a = e @ right
    b = e @ up
    # cos 2φ and sin 2φ from the projected direction, without an arctan round trip.
    r2 = a * a + b * b
    safe = np.where(r2 > 0, r2, 1.0)
    c2, s2 = (a * a - b * b) / safe, 2 * a * b / safe
    p = intensity * np.where(r2 > 0, dolp, 0.0)
    return np.stack([intensity, p * c2, p * s2], axis=-1)
