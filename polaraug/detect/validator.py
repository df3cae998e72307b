"""A validation pass that keeps its per-image records: ultralytics' detection validator, unchanged, with every
image's matched predictions copied out as it goes (see imagestats.py for what is computed from them)."""

from __future__ import annotations

from pathlib import Path

from .imagestats import ImageStats


def recording_validator():
    """The validator class to pass as ``YOLO(...).val(validator=...)``. The metrics that call returns carry
    ``image_records``: one dict per image (name, tp, conf, pred_cls, target_cls), for :func:`image_stats`.

    A class made on call: ultralytics is imported only when a detector is trained or scored.
    """
    from ultralytics.models.yolo.detect import DetectionValidator

    class RecordingValidator(DetectionValidator):
        def init_metrics(self, model) -> None:
            super().init_metrics(model)
            self.metrics.image_records = []  # the metrics object is what YOLO.val returns

        def update_metrics(self, preds, batch) -> None:
            start = len(self.metrics.stats["tp"])
            super().update_metrics(preds, batch)
            stats = self.metrics.stats
            for si, k in enumerate(range(start, len(stats["tp"]))):
                self.metrics.image_records.append({"name": Path(batch["im_file"][si]).stem, "tp": stats["tp"][k],
                                     "conf": stats["conf"][k], "pred_cls": stats["pred_cls"][k],
                                     "target_cls": stats["target_cls"][k]})

    return RecordingValidator


def image_stats(metrics) -> ImageStats:
    """The per-image records of a pass made with :func:`recording_validator`."""
    return ImageStats.from_records(metrics.image_records)
