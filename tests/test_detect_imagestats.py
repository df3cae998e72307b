"""Per-image detection records: mAP from them equals ultralytics' own, subsets and weights behave as image
selections, and the paired bootstrap over test images separates a real difference from none."""

import numpy as np
import pytest

from polaraug.detect.imagestats import ImageStats, map_scores, paired_bootstrap, weighted_map50


def _random_stats(seed: int, n_img: int = 40, quality: float = 0.6, names=None) -> ImageStats:
    """Plausible records: 0-4 boxes of 3 classes per image; predictions correct with probability ``quality``
    (more so at high confidence), and some false positives."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n_img):
        target = rng.integers(0, 3, rng.integers(0, 5))
        n_pred = rng.integers(0, 8)
        conf = rng.random(n_pred).astype(np.float32)
        hit = rng.random(n_pred) < quality * (0.5 + conf)
        tp = np.stack([hit & (rng.random(n_pred) < 1 - k / 12) for k in range(10)], axis=1)
        pred_cls = np.where(rng.random(n_pred) < 0.8, rng.choice(target, n_pred) if target.size else 0,
                            rng.integers(0, 3, n_pred))
        records.append({"name": (names or [f"im{j:03d}" for j in range(n_img)])[i], "tp": tp, "conf": conf,
                        "pred_cls": pred_cls, "target_cls": target})
    return ImageStats.from_records(records)


def _ultralytics_map50(stats: ImageStats) -> float:
    from ultralytics.utils.metrics import ap_per_class

    ap = ap_per_class(stats.tp, stats.conf, stats.pred_cls, stats.target_cls)[5]
    return float(ap[:, 0].mean())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_map_of_the_records_is_ultralytics_map_with_unit_weights_and_on_subsets(seed):
    stats = _random_stats(seed)
    expected = _ultralytics_map50(stats)
    assert map_scores(stats)["map50"] == pytest.approx(expected, abs=1e-12)
    assert weighted_map50(stats, np.ones((1, 40)))[0] == pytest.approx(expected, abs=1e-9)
    chosen = [n for i, n in enumerate(stats.names) if i % 3]
    sub = stats.subset(chosen)
    assert sub.names == chosen and len(sub.target_cls) < len(stats.target_cls)
    w = np.array([[float(i % 3 != 0) for i in range(40)]])  # 0/1 weights select the same images
    assert weighted_map50(stats, w)[0] == pytest.approx(_ultralytics_map50(sub), abs=1e-9)
    assert map_scores(sub)["map50"] == pytest.approx(_ultralytics_map50(sub), abs=1e-12)


def test_an_image_drawn_twice_counts_about_as_its_two_copies():
    stats = _random_stats(5)
    w = np.ones((1, 40))
    w[0, ::4] = 2
    copies = ImageStats.from_records([
        {"name": f"{n}-{k}", "tp": stats.tp[stats.pred_img == i], "conf": stats.conf[stats.pred_img == i],
         "pred_cls": stats.pred_cls[stats.pred_img == i], "target_cls": stats.target_cls[stats.target_img == i]}
        for i, n in enumerate(stats.names) for k in range(int(w[0, i]))])
    assert weighted_map50(stats, w)[0] == pytest.approx(_ultralytics_map50(copies), abs=0.01)


def test_records_survive_a_save_and_reorder(tmp_path):
    stats = _random_stats(3)
    back = ImageStats.load(stats.save(tmp_path / "s.npz"))
    assert back.names == stats.names and np.array_equal(back.tp, stats.tp)
    reordered = back.aligned(list(reversed(back.names)))
    assert map_scores(reordered)["map50"] == pytest.approx(map_scores(stats)["map50"], abs=1e-12)
    with pytest.raises(ValueError, match="not in the reference list"):
        back.aligned(back.names[1:])


def test_paired_bootstrap_resolves_a_better_arm_and_not_a_copy():
    base = [_random_stats(s, n_img=80, quality=0.45) for s in (10, 11, 12)]
    better = [_random_stats(s, n_img=80, quality=0.75) for s in (20, 21, 22)]
    same = paired_bootstrap(base, base, n_boot=200)
    assert same["mean"] == 0 and same["low"] == 0 and same["high"] == 0
    gain = paired_bootstrap(base, better, n_boot=200)
    assert gain["low"] > 0 and gain["low"] < gain["mean"] < gain["high"]
    worse = paired_bootstrap(better, base, n_boot=200)
    assert worse["high"] < 0 and worse["mean"] == pytest.approx(-gain["mean"])
    half = paired_bootstrap(base, better, images=base[0].names[:40], n_boot=200)
    assert half["images"] == 40 and half["high"] - half["low"] > 0
    with pytest.raises(ValueError, match="paired seeds"):
        paired_bootstrap(base, better[:2])


def test_the_bootstrap_does_not_depend_on_how_its_resamples_are_chunked():
    base = [_random_stats(s, n_img=60, quality=0.45) for s in (30, 31)]
    other = [_random_stats(s, n_img=60, quality=0.6) for s in (40, 41)]
    whole = paired_bootstrap(base, other, n_boot=120, chunk=120)
    assert paired_bootstrap(base, other, n_boot=120, chunk=50) == whole
    assert paired_bootstrap(base, other, n_boot=120, chunk=50, seed=1) != whole
