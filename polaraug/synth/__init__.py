"""Synthetic polarimetric data that polaraug generates itself (no downloads)."""

from .pattern import polarized_test_pattern

__all__ = ["polarized_test_pattern"]
