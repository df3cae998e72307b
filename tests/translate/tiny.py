"""A tiny translation source, shared by the translation tests."""

from pathlib import Path

from polaraug.physics import camera_matrix
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate import ConstrainedCycleGAN, TranslatorConfig, save_checkpoint


def tiny_source(root: Path, cfg: TranslatorConfig, *, seed: int) -> Path:
    """Three 40x28 rendered RGB frames in ``root/bdd`` (BDD100K layout) and an untrained translator of
    ``cfg`` in ``root/c.pt`` (ideal camera). Returns: ``root``."""
    generate(SynthConfig(n=3, width=40, height=28, seed=seed, mode="rgb"), root / "bdd", workers=1, progress=False)
    save_checkpoint(ConstrainedCycleGAN(cfg, camera_matrix()), root / "c.pt", step=0, epoch=0, camera_name="ideal")
    return root
