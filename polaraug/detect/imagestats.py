"""Per-image detection statistics: what one validation pass records for every test image, and every metric
eval-detection reports recomputed from them (mAP50 and mAP50-95 on the whole test set or any subset of its
images, such as one weather or the night frames) and a paired bootstrap over test images.

One validation pass per trained model is enough: per-condition scores are subsets of its records instead of
one more pass per condition, and the records are kept beside the scores (``OUT/scores/ARM_sSEED.npz``) so
that intervals can be recomputed later without the model.

Point estimates go through ultralytics' own ``ap_per_class`` (the numbers ultralytics prints). The bootstrap
needs AP under image weights (an image drawn k times counts k times), which ultralytics does not offer:
:func:`weighted_map50` computes it for many resamples at once. With 0/1 weights it equals ultralytics' AP on
the chosen images; an image drawn k times joins its k copies' recall steps into one (a difference far below
the bootstrap's spread, and the same for both arms of a paired comparison).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from polaraug.io.atomic import atomic_path

_AP_X = np.linspace(0.0, 1.0, 101)  # COCO's 101 recall points, as ultralytics interpolates
_EPS = 1e-16  # ultralytics' eps in recall = tp / (n_labels + eps)
_TRAPZ = getattr(np, "trapezoid", None) or np.trapz  # noqa: NPY201 (NumPy 2 renamed trapz)


@dataclass
class ImageStats:
    """Matched predictions of one model on a test set.

    Attributes:
        names: (n_img,) image stems, in validation order.
        pred_img: (P,) int, the image of each prediction (index into ``names``).
        conf: (P,) float, confidence of each prediction.
        pred_cls: (P,) int, predicted class.
        tp: (P, 10) bool, whether the prediction is correct at IoU 0.50, 0.55, ..., 0.95.
        target_img: (T,) int, the image of each labelled box.
        target_cls: (T,) int, its class.
    """

    names: list[str]
    pred_img: np.ndarray
    conf: np.ndarray
    pred_cls: np.ndarray
    tp: np.ndarray
    target_img: np.ndarray
    target_cls: np.ndarray

    @classmethod
    def from_records(cls, records: Sequence[dict]) -> ImageStats:
        """Build from one record per image: {"name", "tp" (P_i, 10), "conf", "pred_cls", "target_cls"}."""
        def cat(key: str, dtype, shape=(0,)) -> np.ndarray:
            parts = [np.asarray(r[key], dtype=dtype).reshape(-1, *shape[1:]) for r in records]
            return np.concatenate(parts) if parts else np.zeros(shape, dtype)

        return cls(names=[r["name"] for r in records],
                   pred_img=np.repeat(np.arange(len(records)), [len(r["conf"]) for r in records]),
                   conf=cat("conf", np.float32), pred_cls=cat("pred_cls", np.int16),
                   tp=cat("tp", bool, (0, 10)),
                   target_img=np.repeat(np.arange(len(records)), [len(r["target_cls"]) for r in records]),
                   target_cls=cat("target_cls", np.int16))

    def save(self, path: Path) -> Path:
        """Write atomically as a compressed .npz; returns ``path``."""
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, names=np.asarray(self.names), pred_img=self.pred_img, conf=self.conf,
                                pred_cls=self.pred_cls, tp=self.tp, target_img=self.target_img,
                                target_cls=self.target_cls)
        return path

    @classmethod
    def load(cls, path: Path) -> ImageStats:
        with np.load(path) as z:
            return cls(names=[str(n) for n in z["names"]], pred_img=z["pred_img"], conf=z["conf"],
                       pred_cls=z["pred_cls"], tp=z["tp"], target_img=z["target_img"], target_cls=z["target_cls"])

    def subset(self, names: Iterable[str]) -> ImageStats:
        """The records of the images named ``names`` only (unknown names are ignored), renumbered."""
        wanted = set(names)
        keep = np.array([n in wanted for n in self.names], dtype=bool)
        new_index = np.cumsum(keep) - 1
        p, t = keep[self.pred_img], keep[self.target_img]
        return ImageStats([n for n, k in zip(self.names, keep, strict=True) if k], new_index[self.pred_img[p]],
                          self.conf[p], self.pred_cls[p], self.tp[p], new_index[self.target_img[t]],
                          self.target_cls[t])

    def aligned(self, names: Sequence[str]) -> ImageStats:
        """The same records with images renumbered to the order of ``names`` (which must list every image).

        Raises:
            ValueError: an image of these records is not in ``names`` (records of another test set: a bug).
        """
        index = {n: i for i, n in enumerate(names)}
        missing = [n for n in self.names if n not in index]
        if missing:
            raise ValueError(f"images {missing[:3]} are not in the reference list")
        order = np.array([index[n] for n in self.names], dtype=np.int64)
        return ImageStats(list(names), order[self.pred_img], self.conf, self.pred_cls, self.tp,
                          order[self.target_img], self.target_cls)


def map_scores(stats: ImageStats, class_names: Sequence[str] | None = None) -> dict:
    """mAP50, mAP50-95 and per-class AP50 with ultralytics' ``ap_per_class``.

    Args:
        stats: the records (of the whole test set or a subset).
        class_names: class id -> name for ``per_class`` (None: ids as strings).

    Returns:
        {"map50", "map", "per_class": {name: AP50}}; zeros and {} when no image has a labelled box.
    """
    from ultralytics.utils.metrics import ap_per_class

    if stats.target_cls.size == 0:
        return {"map50": 0.0, "map": 0.0, "per_class": {}}
    ap, classes = ap_per_class(stats.tp, stats.conf, stats.pred_cls, stats.target_cls)[5:7]
    name = (lambda c: class_names[c]) if class_names is not None else str
    return {"map50": float(ap[:, 0].mean()), "map": float(ap.mean()),
            "per_class": {name(int(c)): float(ap[i, 0]) for i, c in enumerate(classes)}}


def _ap_curves(recall: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """AP of each row's precision-recall curve as ultralytics' ``compute_ap`` computes it (sentinels, precision
    envelope, 101-point interpolation, trapezoid rule).

    Args:
        recall, precision: (B, P) curves, recall non-decreasing along each row.

    Returns:
        (B,) AP.
    """
    b = recall.shape[0]
    mrec = np.concatenate([np.zeros((b, 1)), recall, recall[:, -1:], np.ones((b, 1))], axis=1)
    mpre = np.concatenate([np.ones((b, 1)), precision, np.zeros((b, 2))], axis=1)
    mpre = np.flip(np.maximum.accumulate(np.flip(mpre, axis=1), axis=1), axis=1)
    return np.array([_TRAPZ(np.interp(_AP_X, r, p), _AP_X) for r, p in zip(mrec, mpre, strict=True)])


def weighted_map50(stats: ImageStats, weights: np.ndarray) -> np.ndarray:
    """mAP50 of the records with each image counted ``weights[b, i]`` times, for every row b at once.

    Args:
        stats: the records.
        weights: (B, n_img) non-negative counts (0 leaves an image out).

    Returns:
        (B,) mAP50: the mean AP50 over the classes with a labelled box among the counted images (0 where no
        counted image has one).
    """
    weights = np.asarray(weights, dtype=np.float64)
    n_b = weights.shape[0]
    total, n_classes = np.zeros(n_b), np.zeros(n_b)
    order = np.argsort(-stats.conf)  # ultralytics' own sort, so ties fall in its order
    for c in np.unique(stats.target_cls):
        n_labels = weights @ np.bincount(stats.target_img[stats.target_cls == c], minlength=weights.shape[1])
        present = n_labels > 0
        idx = order[stats.pred_cls[order] == c]
        ap = np.zeros(n_b)
        if idx.size:
            w = weights[:, stats.pred_img[idx]]
            hit = stats.tp[idx, 0]
            tpc, fpc = np.cumsum(w * hit, axis=1), np.cumsum(w * ~hit, axis=1)
            counted = tpc + fpc
            # before the first counted prediction the curve sits at the sentinel (recall 0, precision 1)
            precision = np.divide(tpc, counted, out=np.ones_like(tpc), where=counted > 0)
            ap = _ap_curves(tpc / (n_labels[:, None] + _EPS), precision)
        total += np.where(present, ap, 0.0)
        n_classes += present
    return np.divide(total, n_classes, out=np.zeros(n_b), where=n_classes > 0)


def bootstrap_weights(n_images: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n_images) counts: each row draws ``n_images`` images with replacement. Rows come from ``rng``
    one after another, so drawing in chunks gives the same resamples as drawing at once."""
    return rng.multinomial(n_images, np.full(n_images, 1.0 / n_images), size=n_boot).astype(np.float64)


def paired_bootstrap(base: Sequence[ImageStats], other: Sequence[ImageStats], *, images: Sequence[str] | None = None,
                     n_boot: int = 1000, seed: int = 0, level: float = 0.95, chunk: int = 100) -> dict:
    """Interval of the seed-averaged mAP50 difference ``other - base`` over resamples of the test images.

    Every resample draws the same images for both arms and all seeds (the comparison stays paired by image
    and by seed); the interval is the resampled differences' central ``level`` share. It measures how much
    the difference depends on which test images were drawn, with the trained models fixed (the Student-t
    interval over seeds measures the other source of noise).

    Args:
        base, other: one ImageStats per seed each, same seeds in the same order, on the same test images.
        images: the test images to resample (e.g. one condition's); None: every image.
        n_boot: resamples.
        seed: of the resampling.
        level: interval coverage.
        chunk: resamples computed at once (memory: chunk x predictions floats).

    Returns:
        {"mean" (the difference on the test set as drawn), "low", "high", "n_boot", "images"}.

    Raises:
        ValueError: the arms have different numbers of seeds, or none (a bug: arms run over the same seeds).
    """
    if len(base) != len(other) or not base:
        raise ValueError(f"paired seeds needed, got {len(base)} and {len(other)} record sets")
    names = list(images) if images is not None else list(base[0].names)
    runs = [s.subset(names).aligned(names) if images is not None else s.aligned(names) for s in (*base, *other)]
    n = len(base)
    observed = np.ones((1, len(names)))
    point = [float(weighted_map50(s, observed)[0]) for s in runs]
    diffs = []
    rng = np.random.default_rng(seed)
    for start in range(0, n_boot, chunk):
        w = bootstrap_weights(len(names), min(chunk, n_boot - start), rng)
        maps = np.stack([weighted_map50(s, w) for s in runs])  # (2n, B)
        diffs.append((maps[n:] - maps[:n]).mean(axis=0))
    d = np.concatenate(diffs)
    tail = 100 * (1 - level) / 2
    return {"mean": float(np.mean(point[n:]) - np.mean(point[:n])), "low": float(np.percentile(d, tail)),
            "high": float(np.percentile(d, 100 - tail)), "n_boot": n_boot, "images": len(names)}
