"""Writers of datasets other tools read without conversion: Ultralytics YOLO, BDD100K det_20, KITTI label_2."""

from .bdd100k import write_bdd100k_labels
from .kitti import write_kitti_labels
from .yolo import export_yolo

__all__ = ["export_yolo", "write_bdd100k_labels", "write_kitti_labels"]
