import numpy as np
import pytest
import torch

from polaraug.physics import (
    calibration_loss,
    intensities_from_stokes,
    optical_loss,
    project_to_cone,
    proximal_distance,
    stokes_from_intensities,
)
from tests.conftest import IDEAL, random_stokes


def test_losses_vanish_on_admissible_consistent_intensities(rng):
    y = intensities_from_stokes(random_stokes(rng, (6, 6), admissible=True), IDEAL)
    assert calibration_loss(y, IDEAL) == pytest.approx(0, abs=1e-20)
    assert optical_loss(y, IDEAL) == 0
    assert proximal_distance(y, IDEAL) == pytest.approx(0, abs=1e-20)


def test_loss_values_match_their_definitions(rng):
    y = rng.uniform(0, 1, (10, 10, 4))
    s = stokes_from_intensities(y, IDEAL)
    e = (y[..., 0] + y[..., 2]) - (y[..., 1] + y[..., 3])
    assert calibration_loss(y, IDEAL) == pytest.approx(np.mean(e**2 / 4))  # |r|² = 4 (e/4)²
    expected_opt = np.mean(np.maximum(s[..., 1] ** 2 + s[..., 2] ** 2 - s[..., 0] ** 2, 0))
    assert optical_loss(y, IDEAL) == pytest.approx(expected_opt)
    assert expected_opt > 0
    expected_prox = np.mean(np.sum((s - project_to_cone(s)) ** 2, axis=-1))
    assert proximal_distance(y, IDEAL) == pytest.approx(expected_prox)


def test_losses_are_differentiable_with_finite_gradients(rng):
    y0 = rng.uniform(0, 1, (2, 4, 5, 5)).astype(np.float32)
    y0[0, :, 0, 0] = 0.0  # apex: s = 0
    a = torch.from_numpy(IDEAL.astype(np.float32))
    for loss in (calibration_loss, optical_loss, proximal_distance):
        y = torch.from_numpy(y0).requires_grad_(True)
        value = loss(y, a)
        assert value.ndim == 0
        value.backward()
        assert torch.isfinite(y.grad).all()
        assert y.grad.abs().sum() > 0


def test_gradient_descent_on_proximal_distance_reaches_the_cone(rng):
    y = torch.from_numpy(rng.uniform(0, 1, (1, 4, 8, 8)).astype(np.float32)).requires_grad_(True)
    opt = torch.optim.SGD([y], lr=0.5)
    start = proximal_distance(y, IDEAL).item()
    for _ in range(200):
        opt.zero_grad()
        proximal_distance(y, IDEAL).backward()
        opt.step()
    assert start > 1e-3
    assert proximal_distance(y, IDEAL).item() < 1e-3 * start
