"""What a geometric transform does to polarization: a mirror (θ -> -θ) followed by a rotation by φ.

Every rigid image transform is such a pose: flips are mirrors, rot90 turns φ = 90°, a transpose is a
mirror then φ = 90°. Angles are counter-clockwise as displayed (CONVENTIONS.md). Pixel-coordinate
matrices (x right, y down) are converted here, once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pose:
    """θ -> (−θ if mirror else θ) + phi, in radians."""

    mirror: bool = False
    phi: float = 0.0

    @property
    def is_identity(self) -> bool:
        return not self.mirror and math.isclose(math.remainder(self.phi, math.pi), 0.0, abs_tol=1e-12)

    def then(self, other: Pose) -> Pose:
        """This pose followed by ``other``."""
        phi = (-self.phi if other.mirror else self.phi) + other.phi
        return Pose(self.mirror != other.mirror, phi)

    def quarter_turns(self) -> int | None:
        """phi as a whole number of 90° turns (mod 2: 180° leaves polarization unchanged), else None."""
        k = self.phi / (math.pi / 2)
        return int(round(k)) % 2 if math.isclose(k, round(k), abs_tol=1e-9) else None


def pose_from_matrix(m: np.ndarray, at: tuple[float, float] | None = None) -> Pose:
    """Pose of an image warp from its matrix in pixel coordinates (x right, y down; 2x2, 2x3 or 3x3,
    mapping source to destination). Shear and anisotropic scale are taken as their nearest rotation
    (polar decomposition): polarization rotates with the image, not with its distortion. For a
    perspective matrix (last row not (0, 0, 1)) the warp's local Jacobian at the destination point
    ``at`` is used (default: the origin)."""
    m = np.asarray(m, dtype=np.float64)
    lin = m[:2, :2]
    if m.shape == (3, 3) and not np.allclose(m[2], [0.0, 0.0, 1.0]):
        dst = np.array([*(at or (0.0, 0.0)), 1.0])
        src = np.linalg.solve(m, dst)
        src = src / src[2]
        w = m[2] @ src
        x_dst = (m[:2] @ src) / w
        lin = (m[:2, :2] - np.outer(x_dst, m[2, :2])) / w
    mirror = bool(np.linalg.det(lin) < 0)
    if mirror:
        lin = lin @ np.diag([1.0, -1.0])  # take the mirror out first: y -> -y is θ -> -θ
    # The nearest rotation (polar factor) of a 2x2 matrix with det > 0 maximizes tr(Rᵀ lin): its angle is
    # atan2(l10 − l01, l00 + l11), no SVD needed.
    a = math.atan2(lin[1, 0] - lin[0, 1], lin[0, 0] + lin[1, 1])
    # y points down, so a pixel-space rotation by +a is clockwise as displayed: φ = -a.
    return Pose(mirror, -a)


D4_POSES = {
    "e": Pose(),
    "r90": Pose(False, math.pi / 2),
    "r180": Pose(False, math.pi),
    "r270": Pose(False, 3 * math.pi / 2),
    "h": Pose(True, 0.0),
    "v": Pose(True, 0.0),
    "t": Pose(True, math.pi / 2),  # reflection over the main diagonal: θ -> 90° - θ
    "hvt": Pose(True, math.pi / 2),  # over the anti-diagonal: the same on polarization
}
