"""Every encoding pinned to its closed form on hand-built pixels (encodings.py docstring, CONVENTIONS.md).

Ideal camera, intensities y = (I0, I45, I90, I135):
s0 = (I0 + I45 + I90 + I135) / 2, s1 = I0 - I90, s2 = I45 - I135, DoLP = √(s1² + s2²) / s0 (0 where s0 <= 0),
AoLP = ½ atan2(s2, s1) in [0, π).
- intensities: y;  i0-i45-i90: (I0, I45, I90);  stokes: (s0 / 2, (s1 + 1) / 2, (s2 + 1) / 2);
- hsv: (AoLP / π, clip(DoLP, 0, 1), clip(s0 / 2, 0, 1)).
The expected values below are written out by hand, not computed with polaraug.
"""

import math

import numpy as np
import pytest

from polaraug.data.encodings import CHANNELS, ENCODINGS, encode, to_dtype
from polaraug.errors import ConfigError
from polaraug.physics import camera_matrix

IDEAL = camera_matrix()
R3 = math.sqrt(3) / 2  # cos 30° = sin 60°

# name: (I0, I45, I90, I135), (s0/2, (s1+1)/2, (s2+1)/2), (hue, saturation, value)
PIXELS = {
    # fully polarized, s0 = 1: I_θ = ½ (1 + cos 2(θ - AoLP))
    "polarized-0": ((1.0, 0.5, 0.0, 0.5), (0.5, 1.0, 0.5), (0.0, 1.0, 0.5)),
    "polarized-45": ((0.5, 1.0, 0.5, 0.0), (0.5, 0.5, 1.0), (0.25, 1.0, 0.5)),
    "polarized-90": ((0.0, 0.5, 1.0, 0.5), (0.5, 0.0, 0.5), (0.5, 1.0, 0.5)),
    "polarized-135": ((0.5, 0.0, 0.5, 1.0), (0.5, 0.5, 0.0), (0.75, 1.0, 0.5)),
    # s0 = 0.8, DoLP = 0.5, AoLP = 30°: s1 = 0.4 cos 60° = 0.2, s2 = 0.4 sin 60° = 0.4 R3
    "partial-30": ((0.5, 0.4 + 0.2 * R3, 0.3, 0.4 - 0.2 * R3), (0.4, 0.6, 0.5 + 0.2 * R3), (1 / 6, 0.5, 0.4)),
    # s0 = 0.5, DoLP = 0.8, AoLP = 165°: 2·AoLP = 330°, s1 = 0.4 R3, s2 = -0.2 (hue close to 1, below it)
    "partial-165": ((0.25 + 0.2 * R3, 0.15, 0.25 - 0.2 * R3, 0.35), (0.25, 0.5 + 0.2 * R3, 0.4),
                    (165 / 180, 0.8, 0.25)),
    "unpolarized": ((0.3, 0.3, 0.3, 0.3), (0.3, 0.5, 0.5), (0.0, 0.0, 0.3)),
    "saturated-grey": ((1.0, 1.0, 1.0, 1.0), (1.0, 0.5, 0.5), (0.0, 0.0, 1.0)),
    "dark": ((0.0, 0.0, 0.0, 0.0), (0.0, 0.5, 0.5), (None, 0.0, 0.0)),  # hue: AoLP undefined at s0 = 0
    # Not admissible (one channel lit): s = (0.5, 1, 0), DoLP = 2 -> saturation clipped to 1.
    "inadmissible": ((1.0, 0.0, 0.0, 0.0), (0.25, 1.0, 0.5), (0.0, 1.0, 0.25)),
}
NAMES = list(PIXELS)


def _image():
    """(2, 5, 4) float32 image of the pixels above, in a non-trivial layout."""
    y = np.array([PIXELS[n][0] for n in NAMES], np.float32).reshape(2, 5, 4)
    return y


def _expected(k: int) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in PIXELS[n][k]] for n in NAMES]).reshape(2, 5, -1)


def test_the_hand_written_table_is_self_consistent():
    """Guard the table itself (a typo must not become a wrong expectation): the Stokes and hsv columns
    follow from the intensities by the closed forms, and admissible pixels are y = A s exactly."""
    a = np.asarray(IDEAL, np.float64)
    for name in NAMES:
        (i0, i45, i90, i135), enc_s, enc_hsv = PIXELS[name]
        s0, s1, s2 = (i0 + i45 + i90 + i135) / 2, i0 - i90, i45 - i135
        np.testing.assert_allclose(enc_s, [s0 / 2, (s1 + 1) / 2, (s2 + 1) / 2], atol=1e-12, err_msg=name)
        dolp = math.hypot(s1, s2) / s0 if s0 > 0 else 0.0
        np.testing.assert_allclose(enc_hsv[1:], [min(dolp, 1.0), min(s0 / 2, 1.0)], atol=1e-12, err_msg=name)
        if dolp > 0:
            assert enc_hsv[0] == pytest.approx((0.5 * math.atan2(s2, s1) % math.pi) / math.pi, abs=1e-12)
        if name != "inadmissible":
            np.testing.assert_allclose(a @ [s0, s1, s2], [i0, i45, i90, i135], atol=1e-12, err_msg=name)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_shape_dtype_and_range(encoding):
    out = encode(_image().astype(np.float64), IDEAL, encoding)
    assert out.dtype == np.float32 and out.shape == (2, 5, CHANNELS[encoding])
    assert np.all(out >= 0) and np.all(out <= 1)


def test_intensities_and_three_channel_encodings_are_the_channels():
    y = _image()
    np.testing.assert_array_equal(encode(y, IDEAL, "intensities"), y)
    np.testing.assert_array_equal(encode(y.astype(np.float64), IDEAL, "intensities"), y)
    out = encode(y, IDEAL, "i0-i45-i90")
    np.testing.assert_array_equal(out, y[..., :3])
    assert out.flags.c_contiguous and not np.shares_memory(out, y)


def test_stokes_encoding_closed_form():
    np.testing.assert_allclose(encode(_image(), IDEAL, "stokes"), _expected(1), rtol=0, atol=1e-6)


def test_hsv_encoding_closed_form():
    out = encode(_image(), IDEAL, "hsv")
    want = _expected(2)
    defined = ~np.isnan(want[..., 0])
    # hue = AoLP / π, circular with period 1 (AoLP's period π)
    d = np.abs(np.mod(out[..., 0] - want[..., 0] + 0.5, 1.0) - 0.5)
    assert d[defined].max() < 1e-6
    assert np.all((out[..., 0] >= 0) & (out[..., 0] < 1))  # [0, 1): AoLP in [0, π)
    np.testing.assert_allclose(out[..., 1:], want[..., 1:], rtol=0, atol=1e-6)
    # 165° must not come out as 165° - 180° (a negative hue clipped to 0 or wrapped wrongly)
    assert out.reshape(-1, 3)[NAMES.index("partial-165"), 0] == pytest.approx(165 / 180, abs=1e-6)


def test_stokes_encoding_uses_the_calibration():
    """A calibrated camera: the encoding is A† y, not the ideal camera's sums and differences."""
    a = camera_matrix([2, 43, 92, 136], [1.1, 0.9, 1.05, 0.95], [30, 60, 90, 120], dtype=np.float64)
    s = np.array([[0.8, 0.3, -0.4], [0.6, -0.6, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])  # DoLP ⅝, 1, 0, dark
    y = (s @ a.T)[None].astype(np.float32)
    np.testing.assert_allclose(encode(y, a, "stokes")[0], [[0.4, 0.65, 0.3], [0.3, 0.2, 0.5], [0.5, 0.5, 0.5],
                                                             [0.0, 0.5, 0.5]], atol=2e-6)
    hsv = encode(y, a, "hsv")[0]
    aolp0 = 0.5 * math.atan2(-0.4, 0.3) % math.pi
    # hue of the two polarized pixels (90° -> ½); the grey and dark ones have no AoLP
    np.testing.assert_allclose(hsv[:2, 0], [aolp0 / math.pi, 0.5], atol=2e-6)
    np.testing.assert_allclose(hsv[:, 1], [0.625, 1.0, 0.0, 0.0], atol=5e-6)
    np.testing.assert_allclose(hsv[:, 2], [0.4, 0.3, 0.5, 0.0], atol=2e-6)
    ideal = encode(y, IDEAL, "stokes")[0]
    assert np.abs(ideal - encode(y, a, "stokes")[0]).max() > 0.01  # the camera matters: the check can fail


@pytest.mark.parametrize(("dtype", "top", "period"), [(np.uint8, 255, 256), (np.uint16, 65535, 65536)])
def test_integer_storage_closed_form(dtype, top, period):
    y = _image()
    st = to_dtype(encode(y, IDEAL, "stokes"), dtype, "stokes")
    np.testing.assert_array_equal(st, np.round(_expected(1) * top).astype(dtype))
    hsv = to_dtype(encode(y, IDEAL, "hsv"), dtype, "hsv")
    want = _expected(2)
    defined = ~np.isnan(want[..., 0])
    np.testing.assert_array_equal(hsv[..., 0][defined], np.mod(np.round(want[..., 0] * period), period)[defined])
    np.testing.assert_array_equal(hsv[..., 1:], np.round(want[..., 1:] * top).astype(dtype))
    np.testing.assert_array_equal(to_dtype(y, dtype), np.round(y * top).astype(dtype))


def test_unknown_encoding():
    with pytest.raises(ConfigError, match="unknown encoding"):
        encode(_image(), IDEAL, "rgb")
