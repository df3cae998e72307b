import math

import numpy as np
import pytest

from polaraug.physics import aolp, dolp, inadmissible_fraction
from polaraug.synth.optics import cross, unit
from polaraug.synth.render import render
from polaraug.synth.scene import MATERIAL_ID, Part, PinholeCamera, Scene, SceneObject, random_scene, random_weather


@pytest.fixture(scope="module")
def scenes():
    out = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        sc = random_scene(rng, 160, 120, random_weather(rng, "clear", night=False))
        out.append((sc, render(sc)))
    return out


def test_renders_are_admissible_and_finite(scenes):
    for _, r in scenes:
        assert np.isfinite(r.rgb).all() and np.isfinite(r.stokes).all()
        assert inadmissible_fraction(r.stokes.astype(np.float64), tol=1e-6) == 0


def test_boxes_are_tight_around_visible_object_pixels(scenes):
    n_boxes = 0
    for _, r in scenes:
        for oid, v in r.boxes.items():
            ys, xs = np.nonzero(r.ids == oid)
            assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (v.x1, v.y1, v.x2, v.y2)
            assert 0 < v.visible <= 1 and v.pixels == ys.size and v.depth > 0
            n_boxes += 1
    assert n_boxes > 10


def test_glass_and_paint_are_more_polarized_than_diffuse_surfaces(scenes):
    specular, diffuse = [], []
    for sc, r in scenes:
        d = dolp(r.stokes.astype(np.float64))
        dirs = sc.camera.rays().reshape(r.normal.shape)
        cos_i = -np.einsum("hwc,hwc->hw", r.normal, dirs)
        oblique = (cos_i > 0.34) & (cos_i < 0.64)  # 50° to 70° incidence, around Brewster's angle
        specular.append(d[oblique & np.isin(r.material, [MATERIAL_ID["glass"], MATERIAL_ID["car_paint"]])])
        rough = [MATERIAL_ID[m] for m in ("concrete", "cloth", "facade", "asphalt")]
        diffuse.append(d[oblique & np.isin(r.material, rough)])
    specular, diffuse = np.concatenate(specular), np.concatenate(diffuse)
    assert specular.size > 100 and diffuse.size > 100
    assert np.median(specular) > 3 * np.median(diffuse)


def _glass_wall_scene() -> Scene:
    """A glass wall to the right of the road under an overcast (unpolarized, weakly varying) sky."""
    rng = np.random.default_rng(0)
    weather = random_weather(rng, "overcast", night=False)
    sc = Scene(PinholeCamera(128, 96, focal=100.0, pitch_rad=0.0), weather, road_half_width=4.0, sidewalk_width=2.0)
    # Black glass: no diffuse light, so the AoLP is the specular one alone.
    sc.parts.append(Part(np.array([6.0, 0.0, 2.0]), np.array([9.0, 8.0, 60.0]), "glass", albedo=(0, 0, 0), obj=0))
    sc.objects.append(SceneObject(0, "car"))
    return sc


def test_specular_aolp_is_perpendicular_to_the_plane_of_incidence():
    sc = _glass_wall_scene()
    r = render(sc)
    right, down, _ = sc.camera.axes()
    up = -down
    dirs = sc.camera.rays().reshape(96, 128, 3)
    glass = (r.material == MATERIAL_ID["glass"]) & (dolp(r.stokes.astype(np.float64)) > 0.2)
    assert glass.sum() > 200
    e = unit(cross(r.normal[glass], dirs[glass]))  # perpendicular to the plane of incidence
    expected = np.mod(np.arctan2(e @ up, e @ right), math.pi)
    got = aolp(r.stokes.astype(np.float64))[glass]
    err = np.abs(np.mod(got - expected + math.pi / 2, math.pi) - math.pi / 2)
    assert np.degrees(err).max() < 0.5
    # A wall at the side: E is close to vertical (AoLP near 90°) for rays near the horizon.
    assert np.degrees(np.median(got)) == pytest.approx(90, abs=20)


def test_fog_lowers_contrast_of_the_same_layout():
    contrast = {}
    for name in ("overcast", "foggy"):
        rng = np.random.default_rng(7)
        layout_rng = np.random.default_rng(11)
        sc = random_scene(layout_rng, 160, 120, random_weather(rng, name, night=False))
        lum = render(sc).rgb @ np.array([0.2126, 0.7152, 0.0722])
        contrast[name] = lum.std() / lum.mean()
    assert contrast["foggy"] < 0.7 * contrast["overcast"]
