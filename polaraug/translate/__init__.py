"""The translator: RGB -> (I0, I45, I90, I135).

- :mod:`.model`: :class:`Translator`, the generator inference runs;
- :mod:`.cyclegan`: the constrained CycleGAN objective (training state and step);
- :mod:`.train`: the training run (objective + :class:`polaraug.engine.TrainLoop` hooks);
- :mod:`.checkpoint`: save, resume, and load for inference only;
- :mod:`.infer`, :mod:`.dataset`, :mod:`.evaluate`: full-resolution inference, whole-dataset translation,
  paired evaluation.
"""

from .checkpoint import CheckpointError, load_checkpoint, load_translator, save_checkpoint
from .config import MODES, PRESETS, TranslatorConfig, config_from_dict, load_config
from .cyclegan import ConstrainedCycleGAN
from .model import Translator

__all__ = ["MODES", "PRESETS", "CheckpointError", "ConstrainedCycleGAN", "Translator", "TranslatorConfig",
           "config_from_dict", "load_checkpoint", "load_config", "load_translator", "save_checkpoint"]
