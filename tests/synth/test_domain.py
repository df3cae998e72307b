"""The shifted rendering domain, noise-free twins and surface masks."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from polaraug.cameras import load_camera
from polaraug.cli import app
from polaraug.data.bdd100k import read_bdd100k
from polaraug.data.polarset import read_polarset
from polaraug.errors import InputError
from polaraug.io.images import read_image
from polaraug.physics import dolp
from polaraug.physics.quantize import check_quantized
from polaraug.synth.domain import DEFAULT, SHIFTED, WIDE, get_domain
from polaraug.synth.generate import SURFACE_LEGEND, Paths, SynthConfig, domain_sensor, generate, render_frame
from polaraug.synth.render import render
from polaraug.synth.scene import MATERIAL_ID, WEATHERS, random_scene, random_weather

W, H, N = 64, 48, 12


def _twin_cfg(**kw) -> SynthConfig:
    """The noise-free, non-mosaicked 'truth' twin of the shifted domain."""
    cam = load_camera(SHIFTED.camera)
    return SynthConfig(n=N, width=W, height=H, seed=5, mode="polar", domain="shifted", camera=cam,
                       sensor=domain_sensor(SHIFTED, cam, dofp=False, noise=False), **kw)


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("domains")
    out = {}
    for name in ("default", "shifted"):
        cfg = SynthConfig(n=N, width=W, height=H, seed=5, mode="polar", domain=name, masks=True)
        out[name] = (root / name, generate(cfg, root / name, workers=1, progress=False))
    out["truth"] = (root / "truth", generate(_twin_cfg(), root / "truth", workers=1, progress=False))
    return out


def _frames(root):
    ps = read_polarset(root)
    return ps, [f for s in sorted(ps.splits) for f in ps.frames(s)]


def test_shifted_domain_uses_its_camera_bit_depth_and_mosaic(sets):
    ps, frames = _frames(sets["shifted"][0])
    assert ps.camera.name == "shifted_dofp" and ps.bits == 12
    assert len(set(ps.camera.gains)) > 1 and all(np.isfinite(ps.camera.extinction_ratios))
    synth = ps.manifest["provenance"]["synth"]
    assert synth["domain"] == "shifted" and synth["sensor"]["dofp_pattern"] == [[90, 45], [135, 0]]
    assert synth["domain_settings"]["weather_p"] == list(SHIFTED.weather_p)
    for f in frames:
        raw = read_image(f.image)
        assert raw.dtype == np.uint16 and raw.max() <= 4095
        assert check_quantized(raw, ps.camera.matrix(), bits=12) == 0
    # Unequal gains and off angles: I0 + I90 = I45 + I135 (the ideal camera's identity) no longer holds.
    resid = {}
    for name in ("default", "shifted"):
        ps, frames = _frames(sets[name][0])
        assert name == "shifted" or (ps.camera.name == "ideal" and ps.bits == 16)
        y = np.stack([ps.load(f) for f in frames])
        resid[name] = np.abs((y[..., 0] + y[..., 2]) - (y[..., 1] + y[..., 3])).mean()
    assert resid["shifted"] > 20 * resid["default"]


def test_shifted_dofp_mosaic_blurs_edges(tmp_path):
    cam = load_camera("shifted_dofp")
    imgs = {}
    for dofp in (False, True):
        cfg = SynthConfig(n=1, width=W, height=H, seed=2, mode="polar", domain="shifted", camera=cam,
                          sensor=domain_sensor(SHIFTED, cam, dofp=dofp, noise=False))
        paths = Paths(tmp_path / str(dofp), "polar", "bdd100k")
        rec = render_frame(cfg, paths, 0)
        imgs[dofp] = read_image(paths.polar_image(rec["split"], rec["name"])).astype(np.float64) / 4095
    diff = np.abs(imgs[True] - imgs[False]).max(axis=-1)
    grad = np.abs(np.gradient(imgs[False].mean(axis=-1))).sum(axis=0)
    edges = grad > np.percentile(grad, 80)
    assert diff.max() > 0.01  # demosaicing changes the image...
    assert diff[edges].mean() > 3 * diff[~edges].mean()  # ...mostly at edges


def test_shifted_scene_distribution_differs():
    draws = {}
    for dom in (DEFAULT, SHIFTED):
        ws = [random_weather(np.random.default_rng([9, i]), domain=dom, night=False) for i in range(400)]
        elev = np.degrees(np.arcsin([w.sun[1] for w in ws]))
        assert dom.sun_elevation_deg[0] <= elev.min() and elev.max() <= dom.sun_elevation_deg[1]
        draws[dom.name] = (np.mean([w.name == "clear" for w in ws]), np.mean([w.wet_road for w in ws]),
                           np.median(elev))
    (c0, wet0, e0), (c1, wet1, e1) = draws["default"], draws["shifted"]
    assert c1 < c0 - 0.15 and wet1 > wet0 + 0.2 and e1 < e0 - 15
    # Wet roads also under overcast skies in the shifted domain, never in the default one.
    rng = np.random.default_rng(0)
    assert any(random_weather(rng, "overcast", domain=SHIFTED).wet_road for _ in range(20))
    assert not any(random_weather(rng, "overcast", domain=DEFAULT).wet_road for _ in range(20))


def test_shifted_materials_and_paint_palette_reach_the_render():
    palette = np.array(SHIFTED.paint_palette)
    lane = {}
    for dom in (DEFAULT, SHIFTED):
        ratios = []
        for seed in range(4):
            rng = np.random.default_rng(seed)
            sc = random_scene(rng, 160, 120, random_weather(rng, "overcast", night=False, domain=dom), domain=dom)
            if dom is SHIFTED:
                for p in sc.parts:
                    if p.material == "car_paint" and p.albedo is not None:
                        assert np.abs(palette - np.array(p.albedo)).max(axis=1).min() <= SHIFTED.paint_jitter + 1e-9
                assert sc.materials["car_paint"][2] < DEFAULT.materials.get("car_paint", (0, 0, 0.75))[2]
            r = render(sc)
            px = r.rgb[r.material == MATERIAL_ID["lane_paint"]]
            if px.size:
                ratios.append(px[:, 2].mean() / px[:, 0].mean())
        lane[dom.name] = np.mean(ratios)
    assert lane["default"] > 0.85 and lane["shifted"] < 0.6  # white vs yellow lane markings


def test_shifted_roads_are_wetter_and_more_polarized(sets):
    road = {}
    for dom in (DEFAULT, SHIFTED):  # the scenes' own Stokes vectors, before any sensor
        vals = []
        for i in range(12):
            rng = np.random.default_rng([1, i])
            w = random_weather(rng, None, night=bool(rng.random() < 0.2), domain=dom)
            r = render(random_scene(rng, W, H, w, domain=dom))
            on_road = np.isin(r.material, [MATERIAL_ID["asphalt"], MATERIAL_ID["asphalt_wet"]])
            vals.append(dolp(r.stokes.astype(np.float64))[on_road])
        road[dom.name] = np.concatenate(vals).mean()
    assert road["shifted"] > 1.2 * road["default"]  # wet asphalt reflects the sky, polarized
    assert sets["shifted"][1]["wet_road"] > sets["default"][1]["wet_road"]
    assert sets["shifted"][1]["domain"] == "shifted"


def test_noise_free_twin_matches_the_noisy_frame_up_to_noise(sets):
    _, noisy = _frames(sets["shifted"][0])
    ps, truth = _frames(sets["truth"][0])
    assert [f.stem for f in noisy] == [f.stem for f in truth]
    assert ps.manifest["provenance"]["synth"]["sensor"] == {"read_noise": 0.0, "shot_noise": 0.0, "bits": 12,
                                                           "dofp_pattern": None}
    same, other, corr = [], [], []
    for a, b, c in zip(noisy, truth, truth[1:] + truth[:1], strict=True):
        assert [(x.cls, x.x1, x.y1, x.x2, x.y2) for x in a.boxes] == [(x.cls, x.x1, x.y1, x.x2, x.y2)
                                                                     for x in b.boxes]
        ya, yb, yc = ps.load(a), ps.load(b), ps.load(c)
        same.append(np.abs(ya - yb).mean())
        other.append(np.abs(ya - yc).mean())
        corr.append(np.corrcoef(ya.ravel(), yb.ravel())[0, 1])
    assert np.median(corr) > 0.9 and min(corr) > 0.7  # night frames are the noisiest
    assert 0 < np.mean(same) < 0.04 and np.mean(same) < 0.3 * np.mean(other)


def test_shifted_renders_are_deterministic(sets, tmp_path):
    cfg = SynthConfig(n=3, width=W, height=H, seed=5, mode="polar", domain="shifted", masks=True)
    generate(cfg, tmp_path, workers=1, progress=False)
    ps, frames = _frames(tmp_path)
    ref = {f.stem: f for f in _frames(sets["shifted"][0])[1]}
    for f in frames:
        assert np.array_equal(read_image(f.image), read_image(ref[f.stem].image))


def test_masks_hold_legend_values_and_match_the_render(sets):
    root = sets["shifted"][0]
    legend = json.loads((root / "masks" / "masks.json").read_text())["values"]
    assert {int(k): v for k, v in legend.items()} == SURFACE_LEGEND
    assert read_polarset(root).manifest["provenance"]["masks"]["values"] == legend
    ps, frames = _frames(root)
    seen = set()
    for f in frames:
        m = read_image(root / "masks" / f.split / f"{f.stem}.png")
        assert m.dtype == np.uint8 and m.shape == (H, W)
        assert set(np.unique(m).tolist()) <= set(SURFACE_LEGEND)
        seen |= set(np.unique(m).tolist())
    names = {SURFACE_LEGEND[v] for v in seen}
    assert {"sky", "concrete", "facade"} <= names and names & {"asphalt", "asphalt_wet"}
    # The mask is the renderer's material buffer: frame 0 re-rendered gives the same labels.
    cfg = SynthConfig(n=1, width=W, height=H, seed=5, domain="shifted")
    rng = np.random.default_rng([5, 0])
    w = random_weather(rng, None, night=bool(rng.random() < cfg.night_fraction), domain=SHIFTED)
    r = render(random_scene(rng, W, H, w, domain=SHIFTED))
    f0 = next(f for f in frames if f.stem.endswith("000000"))
    np.testing.assert_array_equal(read_image(root / "masks" / f0.split / f"{f0.stem}.png"), r.material + 1)


def test_paired_shifted_set_has_rgb_twins(tmp_path):
    cfg = SynthConfig(n=4, width=W, height=H, seed=1, domain="shifted", val_fraction=0.5, masks=True)
    generate(cfg, tmp_path, workers=1, progress=False)
    assert read_polarset(tmp_path / "polar").camera.name == "shifted_dofp"
    for split in ("train", "val"):
        rgb = list(read_bdd100k(tmp_path / "rgb", split))
        assert rgb and all((tmp_path / "polar" / "images" / split / f"{f.stem}.png").is_file() for f in rgb)
        assert all((tmp_path / "polar" / "masks" / split / f"{f.stem}.png").is_file() for f in rgb)


def test_unknown_domain_and_bad_combinations_are_input_errors():
    with pytest.raises(InputError, match="unknown domain"):
        get_domain("nope")
    with pytest.raises(InputError, match="no-dofp"):
        domain_sensor(SHIFTED, load_camera("ideal"))
    assert domain_sensor(SHIFTED, load_camera("ideal"), dofp=False).bits == 12
    assert list(WEATHERS) == ["clear", "overcast", "foggy", "rainy"]


def test_cli_shifted_domain_twins_and_masks(tmp_path):
    runner = CliRunner()
    base = ["-n", "2", "--size", "64x48", "--mode", "polar", "--workers", "1", "--seed", "4"]
    res = runner.invoke(app, ["synth", str(tmp_path / "real"), *base, "--domain", "shifted", "--masks"])
    assert res.exit_code == 0, res.output
    assert "domain shifted" in res.output and (tmp_path / "real" / "masks" / "masks.json").is_file()
    res = runner.invoke(app, ["synth", str(tmp_path / "truth"), *base, "--domain", "shifted", "--no-noise",
                              "--no-dofp"])
    assert res.exit_code == 0, res.output
    real, truth = read_polarset(tmp_path / "real"), read_polarset(tmp_path / "truth")
    assert real.bits == truth.bits == 12 and truth.camera.name == "shifted_dofp"
    assert truth.manifest["provenance"]["synth"]["sensor"]["dofp_pattern"] is None
    assert real.manifest["provenance"]["synth"]["sensor"]["dofp_pattern"] == [[90, 45], [135, 0]]
    for bad, msg in ((["--domain", "x"], "unknown domain"), (["--domain", "shifted", "--camera", "ideal"],
                                                             "no-dofp")):
        res = runner.invoke(app, ["synth", str(tmp_path / "t"), "-n", "1", *bad])
        assert res.exit_code == 2 and msg in res.output, res.output


def test_wide_domain_wets_roads_under_every_sky_and_spans_both_sun_ranges():
    rng = np.random.default_rng(0)
    draws = [random_weather(rng, domain=WIDE) for _ in range(2000)]
    wet = {n: [w.wet_road for w in draws if w.name == n] for n in WEATHERS}
    assert all(wet["rainy"]) and 0.05 < np.mean(wet["clear"]) < 0.3
    assert 0.4 < np.mean(wet["overcast"]) < 0.6 and 0.4 < np.mean(wet["foggy"]) < 0.6
    elev = np.degrees(np.arcsin([w.sun[1] for w in draws]))
    assert elev.min() < SHIFTED.sun_elevation_deg[0] + 2 and elev.max() > DEFAULT.sun_elevation_deg[1] - 2
    default = [random_weather(rng, domain=DEFAULT) for _ in range(500)]
    assert not any(w.wet_road for w in default if w.name != "rainy")  # the default domain is unchanged
    assert get_domain("wide") is WIDE


def test_randomised_domain_draws_materials_and_sky_per_frame_and_leaves_other_domains_alone():
    from polaraug.synth.domain import RANDOMISED, Domain
    from polaraug.synth.scene import MATERIALS, frame_materials

    rng = np.random.default_rng(0)
    before = rng.bit_generator.state
    assert frame_materials(DEFAULT, rng) == MATERIALS and rng.bit_generator.state == before  # no draw
    tables = [frame_materials(RANDOMISED, rng) for _ in range(300)]
    k = np.array([t["car_paint"][2] for t in tables])
    n = np.array([t["asphalt_wet"][1] for t in tables])
    albedo = np.array([t["asphalt"][0] for t in tables])
    base_k = MATERIALS["car_paint"][2]
    assert k.min() < 0.6 * base_k and k.max() > 1.2 * base_k and k.max() <= 1.0
    assert 1.25 < n.min() < 1.30 and 1.36 < n.max() < 1.40  # water: 1 + 0.33 * [0.8, 1.2]
    assert np.ptp(albedo[:, 0]) > 0.04 and (albedo[:, 0] != albedo[:, 2]).any()  # channels drawn apart
    assert all(t["glass"][2] <= 1.0 for t in tables)  # a mirror's weight is the largest
    clear = [random_weather(rng, "clear", night=False, domain=RANDOMISED).sky_dolp_max for _ in range(300)]
    assert 0.42 <= min(clear) < 0.45 and 0.67 < max(clear) <= 0.7
    assert get_domain("randomised") is RANDOMISED
    for bad in ({"index_jitter": 1.5}, {"specular_scale": (1.2, 0.5)}, {"sky_dolp_scale_range": (-0.1, 1.0)}):
        with pytest.raises(InputError, match="domain 'x'"):
            Domain(name="x", **bad)


def test_domains_without_randomisation_keep_their_recorded_settings():
    # the settings digest of a set hashes its domain's dict: fields added at their "off" values must not
    # change it, or a resumed synth into an existing shifted-domain folder would be refused
    from polaraug.synth.domain import PER_FRAME_OFF, RANDOMISED

    for dom in (SHIFTED, WIDE, DEFAULT):
        assert not set(PER_FRAME_OFF) & set(dom.to_dict())
        assert not dom.randomises_materials
    assert set(PER_FRAME_OFF) <= set(RANDOMISED.to_dict()) and RANDOMISED.randomises_materials
    assert RANDOMISED.to_dict()["specular_scale"] == [0.5, 1.3]
