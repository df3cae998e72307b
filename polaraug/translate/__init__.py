"""The constrained CycleGAN translator: RGB -> (I0, I45, I90, I135)."""

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import MODES, PRESETS, TranslatorConfig, config_from_dict, load_config
from .model import ConstrainedCycleGAN

__all__ = ["MODES", "PRESETS", "CheckpointError", "ConstrainedCycleGAN", "TranslatorConfig", "config_from_dict",
           "load_checkpoint", "load_config", "save_checkpoint"]
