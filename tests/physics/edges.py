"""Edge cases the random strategies of tests/conftest.py never reach, shared by the physics tests.

- Stokes rows that are exactly dark (s0 = 0), exactly fully polarized (DoLP = 1 in exact binary arithmetic:
  Pythagorean triples scaled by powers of two), unpolarized, and at the four polarizer angles.
- Cameras whose extinction ratios include inf (ideal polarizer), exactly 1 (no polarizer at all) and
  values just above 1 (almost no polarizer), next to plausible ones.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from polaraug.physics import camera_matrix

# Every row is exact in binary floating point, so DoLP = 1 holds exactly (hypot(3, 4) == 5 etc.).
FULLY_POLARIZED = np.array([
    [1.0, 1.0, 0.0],  # 0°
    [1.0, 0.0, 1.0],  # 45°
    [1.0, -1.0, 0.0],  # 90°
    [1.0, 0.0, -1.0],  # 135°
    [5.0, 3.0, 4.0],
    [5.0, -3.0, -4.0],
    [13.0, 5.0, -12.0],
    [0.625, -0.375, 0.5],  # 5/8, 3/8, 4/8
    [2.0**-20 * 5, 2.0**-20 * 4, 2.0**-20 * 3],  # very dark but fully polarized
])
DARK = np.array([[0.0, 0.0, 0.0]])  # s0 = 0: DoLP is 0 by convention, AoLP undefined
UNPOLARIZED = np.array([[1.0, 0.0, 0.0], [0.25, 0.0, 0.0]])
EDGE_STOKES = np.concatenate([FULLY_POLARIZED, DARK, UNPOLARIZED])

INF = math.inf


def extinction_ratios() -> st.SearchStrategy[float]:
    """An extinction ratio from the whole physical range [1, inf], edges drawn often."""
    return st.one_of(
        st.just(INF),  # ideal polarizer: d = 1
        st.just(1.0),  # no polarizer: d = 0
        st.floats(1.0, 1.0 + 1e-3),  # almost no polarizer
        st.floats(1.0, 1e6),
        st.floats(1e6, 1e300),
    )


def well_conditioned_extinction_ratios() -> st.SearchStrategy[float]:
    """inf (ideal polarizer), exactly 1 (none) or a real one (>= 5): A is rank-deficient or has cond < 1e3.
    ER just above 1 makes A ill-conditioned: float64 checks there need tolerances scaled by cond(A)."""
    return st.one_of(st.just(INF), st.just(1.0), st.floats(5.0, 1e300))


@st.composite
def edge_cameras(draw, ers: st.SearchStrategy[float] | None = None) -> np.ndarray:
    """(4, 3) float64 camera with angle errors, gain spread and extinction ratios from ``ers``."""
    ers = extinction_ratios() if ers is None else ers
    angles = [a + draw(st.floats(-5, 5)) for a in (0, 45, 90, 135)]
    gains = [draw(st.floats(0.8, 1.2)) for _ in range(4)]
    return camera_matrix(angles, gains, [draw(ers) for _ in range(4)], dtype=np.float64)


def with_edge_rows(s: np.ndarray) -> np.ndarray:
    """``s`` (N, 3) followed by every row of EDGE_STOKES."""
    return np.concatenate([np.asarray(s, dtype=np.float64).reshape(-1, 3), EDGE_STOKES])


def circular_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| for angles of period π (AoLP), in [0, π/2]."""
    return np.abs(np.mod(np.asarray(a, np.float64) - b + math.pi / 2, math.pi) - math.pi / 2)
