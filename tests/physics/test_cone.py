import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from polaraug.physics import (
    admissibility_violation,
    inadmissible_fraction,
    intensities_from_stokes,
    project_to_cone,
    repair_intensities,
    stokes_from_intensities,
)
from tests.conftest import IDEAL, cameras, random_stokes
from tests.physics.edges import EDGE_STOKES, FULLY_POLARIZED


@st.composite
def _stokes_batches(draw) -> np.ndarray:
    """(16, 3) Stokes in [-10, 10]³ with some rows replaced by edge cases: s0 = 0, DoLP = 1 exactly,
    unpolarized (uniform floats never land on the cone's surface or apex)."""
    s = draw(arrays(np.float64, (16, 3), elements=st.floats(-10, 10)))
    rows = draw(st.lists(st.integers(0, len(EDGE_STOKES) - 1), max_size=8))
    for i, r in enumerate(rows):
        s[2 * i] = EDGE_STOKES[r]
    return s


stokes_batches = _stokes_batches()
# Every edge row at once, plus the polar cone's edge and points projected onto the s0 = 0 plane.
ALL_EDGES = np.concatenate([EDGE_STOKES, [[-1.0, 1.0, 0.0], [-5.0, 3.0, 4.0], [0.0, 3.0, 4.0], [0.0, 0.0, 1e-7]]])


def _norm(s):
    return np.hypot(s[..., 1], s[..., 2])


@given(stokes_batches)
@example(ALL_EDGES)
def test_projection_is_admissible_and_idempotent(s):
    p = project_to_cone(s)
    assert np.all(_norm(p) <= p[:, 0] + 1e-12)
    np.testing.assert_allclose(project_to_cone(p), p, atol=1e-12)


@given(stokes_batches)
@example(ALL_EDGES)
def test_admissible_points_are_kept(s):
    inside = _norm(s) <= s[:, 0]
    np.testing.assert_array_equal(project_to_cone(s)[inside], s[inside])
    assert np.all(admissibility_violation(s)[inside] == 0)


def test_the_cone_surface_and_apex_are_kept_bit_for_bit():
    """DoLP = 1 exactly (the surface) and s = 0 (the apex, a dark pixel) are admissible: no change, and
    violation exactly 0; a hair outside the surface is moved onto it."""
    edge = np.concatenate([FULLY_POLARIZED, [[0.0, 0.0, 0.0]]])
    np.testing.assert_array_equal(project_to_cone(edge), edge)
    np.testing.assert_array_equal(admissibility_violation(edge), 0.0)
    assert inadmissible_fraction(edge, tol=0.0) == 0.0
    out = edge * [1.0 - 2**-40, 1.0, 1.0]  # s0 a little too small
    assert inadmissible_fraction(out, tol=0.0) == (len(edge) - 1) / len(edge)
    p = project_to_cone(out)
    np.testing.assert_allclose(_norm(p), p[:, 0], rtol=1e-15)
    np.testing.assert_allclose(p, edge, rtol=1e-12, atol=1e-300)


@given(stokes_batches, st.integers(0, 2**32 - 1))
@example(ALL_EDGES, 0)
def test_projection_is_the_nearest_admissible_point(s, seed):
    p = project_to_cone(s)
    d_proj = np.linalg.norm(s - p, axis=1)
    q = random_stokes(np.random.default_rng(seed), (16, 200), admissible=True) * 10  # admissible candidates
    d_any = np.linalg.norm(s[:, None, :] - q, axis=2).min(axis=1)
    assert np.all(d_proj <= d_any + 1e-9)
    # The residual is orthogonal to the projection (Moreau decomposition for a closed convex cone).
    np.testing.assert_allclose(np.sum((s - p) * p, axis=1), 0, atol=1e-9)


@given(stokes_batches, st.lists(st.integers(0, 15), min_size=1, max_size=4), st.integers(0, 2))
def test_nan_stays_nan_and_counts_as_inadmissible(s, rows, col):
    """Documented: NaN counts as inadmissible. Undocumented, physically required: projection and repair
    must not turn an unknown pixel into an admissible value (NaN in, NaN out), nor touch the other pixels."""
    clean = project_to_cone(s)
    s = s.copy()
    s[rows, col] = np.nan
    bad = np.zeros(len(s), bool)
    bad[rows] = True
    p = project_to_cone(s)
    assert np.all(np.isnan(p[bad]))
    np.testing.assert_array_equal(p[~bad], clean[~bad])
    expected = (np.count_nonzero(bad) + np.count_nonzero(~bad & (_norm(s) - s[:, 0] > 1e-6))) / len(s)
    assert inadmissible_fraction(s) == pytest.approx(expected)
    y = intensities_from_stokes(np.where(bad[:, None], 0.3, s), IDEAL)
    y[bad, col] = np.nan
    fixed = repair_intensities(y, IDEAL)
    assert np.all(np.isnan(fixed[bad]).any(axis=1)) and not np.isnan(fixed[~bad]).any()


def test_the_three_branches():
    s = np.array([[1.0, 0.6, 0.8], [-2.0, 0.3, 0.4], [0.0, 3.0, 4.0], [1.0, 3.0, 4.0]])
    p = project_to_cone(s)
    np.testing.assert_allclose(p[0], s[0])  # n = 1 <= s0: kept
    np.testing.assert_allclose(p[1], 0)  # n = 0.5 <= -s0: apex
    np.testing.assert_allclose(p[2], [2.5, 1.5, 2.0])  # ((0 + 5) / 2) * (1, 3/5, 4/5)
    np.testing.assert_allclose(p[3], [3.0, 1.8, 2.4])


@pytest.mark.parametrize(
    "point",
    [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.6, 0.8]],
    ids=["apex", "axis", "edge", "polar-edge", "polar-axis", "s0=0"],
)
def test_torch_gradient_is_finite_at_the_cone_singularities(point):
    s = torch.tensor(point, dtype=torch.float32).view(1, 3, 1, 1).repeat(1, 1, 2, 2).requires_grad_(True)
    p = project_to_cone(s)
    (p * torch.randn_like(p)).sum().backward()
    assert torch.isfinite(s.grad).all()
    assert torch.isfinite(admissibility_violation(s.detach().requires_grad_(True))).all()


def test_numpy_and_torch_projection_agree(rng):
    s = random_stokes(rng, (8, 8)).astype(np.float32)
    p_np = project_to_cone(s)
    p_t = project_to_cone(torch.from_numpy(s).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(p_t, p_np, atol=1e-6)


@given(cameras(), st.integers(0, 2**32 - 1))
def test_repair_makes_everything_admissible_and_consistent(a, seed):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0, 1, (32, 32, 4)).astype(np.float32)  # random: many inadmissible pixels
    assert inadmissible_fraction(stokes_from_intensities(y, a)) > 0
    fixed = repair_intensities(y, a)
    assert inadmissible_fraction(stokes_from_intensities(fixed, a), tol=1e-6) == 0.0
    # Repaired intensities lie in the model's range (no calibration residual) ...
    np.testing.assert_allclose(intensities_from_stokes(stokes_from_intensities(fixed, a), a), fixed, atol=1e-5)
    # ... and admissible, consistent input passes unchanged.
    y_ok = intensities_from_stokes(random_stokes(rng, (8, 8), admissible=True), a).astype(np.float32)
    np.testing.assert_allclose(repair_intensities(y_ok, a), y_ok, atol=1e-6)


def test_violation_map_and_fraction():
    s = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 1e-7]])
    np.testing.assert_allclose(admissibility_violation(s), [0, 0, 1, 1e-7])
    assert inadmissible_fraction(s) == 0.25  # 1e-7 is within the default tolerance 1e-6
    assert inadmissible_fraction(s, tol=0.0) == 0.5


def test_ideal_repair_of_a_saturated_polarized_pixel():
    y = np.array([1.0, 1.0, 0.0, 0.0])  # s = (1, 1, 1): DoLP √2
    s = stokes_from_intensities(y, IDEAL)
    assert np.hypot(s[1], s[2]) > s[0]
    fixed = repair_intensities(y, IDEAL)
    s_fixed = stokes_from_intensities(fixed, IDEAL)
    assert np.hypot(s_fixed[1], s_fixed[2]) == pytest.approx(s_fixed[0])
