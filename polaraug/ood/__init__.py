"""How far a polarimetric frame is from the real polarimetric domain (in the spirit of HistoryAD, Ballester
et al.): a discriminator trained on real frames against generated ones scores each frame; ``validate
--ood-model`` reports the score per frame and can gate a set on it (``--max-ood``)."""

from .model import OODModel, load_ood, save_ood, score_frames
from .train import OODSettings, export_from_translator, roc_auc, separation, train_ood

__all__ = ["OODModel", "OODSettings", "export_from_translator", "load_ood", "roc_auc", "save_ood", "score_frames",
           "separation", "train_ood"]
