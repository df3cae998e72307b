"""Seeded mutations of a file's bytes, chosen by the kind of file.

Every operator takes the file's bytes and a ``random.Random`` and returns new bytes, so a run is reproducible
from its seed (and hypothesis can drive the generator and shrink a failure). Kinds:

- every file: truncate, flip, insert, delete, duplicate or zero a span, empty, random garbage, trailing bytes;
- ``text``, ``json``, ``yaml``: swap, delete or duplicate lines, replace a number by a huge, negative, NaN or
  non-number, insert a stray token, break the encoding, change line endings, nest very deeply;
- ``json``, ``yaml``: parse, then delete a key or item, put a wrong type or value at any node, empty a
  container, duplicate items, rename a key, wrap a value in a list (then write it back);
- images (``png``, ``tiff``, ``npy``, ``jpg``, ``bmp``): rewrite the header's size, depth or channel count
  (PNG IHDR with its CRC, TIFF tags, the NPY header), or replace the file with a decodable image of an odd
  shape or type (0x0, 1 pixel, 2 or 5 channels, bool, int64, complex, ...);
- ``torch``: a checkpoint file replaced by torch.save of foreign payloads.
"""

from __future__ import annotations

import io
import json
import random
import re
import struct
import warnings
import zlib
from collections.abc import Callable

import numpy as np
import yaml

IMAGE_KINDS = ("png", "tiff", "npy", "jpg", "bmp")
KINDS = ("bytes", "text", "json", "yaml", "torch", *IMAGE_KINDS)

NASTY_NUMBERS = ("1e400", "-1e400", "NaN", ".nan", "inf", "-.inf", "99999999999999999999999999", "-1", "0",
                 "-0", "1e-400", "0x1F", "1_000", "twelve", "", "1.5.5", "4294967296", "-2147483649", "1e",
                 "\u0663", "+", "null", "true")
NASTY_VALUES: tuple = (None, True, False, 0, -1, 2**63, -(2**63) - 1, 10**40, 1e308, -1e308, float("nan"),
                       float("inf"), float("-inf"), "", "x", "../../etc/passwd", "/abs/file.png", "C:\\x.png",
                       "\u00e9\u00e9", "1e3", " 12 ", [], [None], [[]], {}, {"a": 1}, [1, 2, 3, 4, 5],
                       "a" * 5000)
TOKENS = ('"', "'", "{", "}", "[", "]", ":", ",", "\t", "\x00", "#", "- ", "\\", "\ufeff", "\u00e9", "&a",
          "*a", "!!python/object:os.system", "%", "\r", "---\n", "? ")


def _span(data: bytes, rnd: random.Random) -> tuple[int, int]:
    """A random [start, end) span of ``data``, mostly short and often near the start (where headers are)."""
    n = len(data)
    if n == 0:
        return 0, 0
    start = rnd.randrange(min(n, 64)) if rnd.random() < 0.5 else rnd.randrange(n)
    length = rnd.choice((1, 1, 2, 4, 8, 16, rnd.randrange(1, n + 1)))
    return start, min(n, start + length)


def _random_bytes(rnd: random.Random, n: int) -> bytes:
    return bytes(rnd.getrandbits(8) for _ in range(n))


# ---- bytes ---------------------------------------------------------------------------------------------------


def truncate(data: bytes, rnd: random.Random) -> bytes:
    cut = rnd.randrange(min(len(data), 64) + 1) if rnd.random() < 0.4 else rnd.randrange(len(data) + 1)
    return data[:cut]


def flip(data: bytes, rnd: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rnd.choice((1, 1, 2, 4, 8))):
        if out:
            i = _span(data, rnd)[0]
            out[i] ^= rnd.randrange(1, 256)
    return bytes(out)


def insert(data: bytes, rnd: random.Random) -> bytes:
    i = _span(data, rnd)[0]
    return data[:i] + _random_bytes(rnd, rnd.choice((1, 2, 4, 16, 64))) + data[i:]


def delete(data: bytes, rnd: random.Random) -> bytes:
    a, b = _span(data, rnd)
    return data[:a] + data[b:]


def duplicate(data: bytes, rnd: random.Random) -> bytes:
    a, b = _span(data, rnd)
    return data[:b] + data[a:b] * rnd.choice((1, 2, 8)) + data[b:]


def zero(data: bytes, rnd: random.Random) -> bytes:
    a, b = _span(data, rnd)
    return data[:a] + bytes(b - a) + data[b:]


def empty(data: bytes, rnd: random.Random) -> bytes:
    return b""


def garbage(data: bytes, rnd: random.Random) -> bytes:
    return _random_bytes(rnd, rnd.choice((1, 16, max(1, len(data)))))


def append(data: bytes, rnd: random.Random) -> bytes:
    return data + _random_bytes(rnd, rnd.choice((1, 7, 100)))


BYTE_OPS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "truncate": truncate, "flip": flip, "insert": insert, "delete": delete, "duplicate": duplicate,
    "zero": zero, "empty": empty, "garbage": garbage, "append": append}


# ---- text ----------------------------------------------------------------------------------------------------


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="surrogateescape")


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


def _lines_op(data: bytes, rnd: random.Random) -> bytes:
    lines = _text(data).splitlines(keepends=True)
    if len(lines) < 2:
        return data + data
    i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
    how = rnd.choice(("swap", "delete", "duplicate", "shuffle"))
    if how == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif how == "delete":
        del lines[i]
    elif how == "duplicate":
        lines.insert(j, lines[i])
    else:
        rnd.shuffle(lines)
    return _bytes("".join(lines))


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def replace_number(data: bytes, rnd: random.Random) -> bytes:
    text = _text(data)
    found = list(_NUMBER.finditer(text))
    if not found:
        return insert_token(data, rnd)
    m = rnd.choice(found)
    return _bytes(text[:m.start()] + rnd.choice(NASTY_NUMBERS) + text[m.end():])


def insert_token(data: bytes, rnd: random.Random) -> bytes:
    text = _text(data)
    i = rnd.randrange(len(text) + 1)
    return _bytes(text[:i] + rnd.choice(TOKENS) + text[i:])


def break_encoding(data: bytes, rnd: random.Random) -> bytes:
    how = rnd.choice(("latin-1", "utf-16", "lone byte", "bom"))
    if how == "latin-1":
        return _text(data).replace(" ", " \u00e9", 1).encode("latin-1", errors="replace")
    if how == "utf-16":
        return _text(data).encode("utf-16", errors="surrogatepass")
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    i = rnd.randrange(len(data) + 1)
    return data[:i] + bytes([rnd.choice((0x80, 0xC3, 0xFF, 0xFE))]) + data[i:]


def line_endings(data: bytes, rnd: random.Random) -> bytes:
    return data.replace(b"\n", rnd.choice((b"\r\n", b"\r", b"\n\n", b"")))


def deep_nesting(data: bytes, rnd: random.Random) -> bytes:
    depth = rnd.choice((100, 2000, 20000))  # past the recursion limit, without a slow scan of megabytes
    opener, closer = rnd.choice((("[", "]"), ("{\"a\": ", "}")))
    return _bytes(opener * depth + "1" + closer * depth * rnd.randrange(2))


TEXT_OPS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "lines": _lines_op, "number": replace_number, "token": insert_token, "encoding": break_encoding,
    "line endings": line_endings, "deep nesting": deep_nesting}


# ---- JSON and YAML structure ---------------------------------------------------------------------------------


def _nodes(doc, path=()) -> list[tuple]:
    """Paths (tuples of keys and indices) of every node of a parsed document, the root included."""
    out = [path]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _nodes(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _nodes(v, (*path, i))
    return out


def _get(doc, path: tuple):
    for key in path:
        doc = doc[key]
    return doc


def _mutate_node(doc, path: tuple, rnd: random.Random):
    """``doc`` with the node at ``path`` changed; the root itself is replaced."""
    if not path:
        return rnd.choice((*NASTY_VALUES, [doc], {"wrapped": doc}))
    parent, key = _get(doc, path[:-1]), path[-1]
    node = parent[key]
    how = rnd.choice(("delete", "value", "value", "empty", "duplicate", "rename", "wrap"))
    if how == "delete":
        del parent[key]
    elif how == "empty" and isinstance(node, (dict, list)):
        parent[key] = type(node)()
    elif how == "duplicate" and isinstance(parent, list):
        parent[key:key] = [node] * rnd.choice((1, 3))
    elif how == "rename" and isinstance(parent, dict):
        parent[rnd.choice((f"{key}x", str(key).upper(), " ", ""))] = parent.pop(key)
    elif how == "wrap":
        parent[key] = [node]
    else:
        parent[key] = rnd.choice(NASTY_VALUES)
    return doc


def structure(data: bytes, kind: str, rnd: random.Random) -> bytes:
    """Parse ``data`` as JSON or YAML, change one node, write it back (a text mutation if it does not parse)."""
    try:
        doc = json.loads(_text(data)) if kind == "json" else yaml.safe_load(_text(data))
    except (ValueError, yaml.YAMLError, RecursionError):
        return rnd.choice(list(TEXT_OPS.values()))(data, rnd)
    doc = _mutate_node(doc, rnd.choice(_nodes(doc)), rnd)
    try:
        return _bytes(json.dumps(doc) if kind == "json" else yaml.safe_dump(doc, sort_keys=False))
    except (ValueError, TypeError, yaml.YAMLError, RecursionError):  # e.g. a YAML key JSON cannot hold
        return data


# ---- images --------------------------------------------------------------------------------------------------

HUGE_SIDES = (0, 1, 3, 65535, 65536, 100_000, 2**31 - 1, 2**32 - 1)


def _png_header(data: bytes, rnd: random.Random) -> bytes:
    """PNG with its IHDR width, height, bit depth or colour type changed (CRC recomputed: only the values lie)."""
    if len(data) < 33 or data[12:16] != b"IHDR":
        return flip(data, rnd)
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    field = rnd.choice(("width", "height", "both", "depth", "colour"))
    if field in ("width", "both"):
        width = rnd.choice(HUGE_SIDES)
    if field in ("height", "both"):
        height = rnd.choice(HUGE_SIDES)
    if field == "depth":
        depth = rnd.choice((1, 2, 4, 7, 8, 16, 32, 255))
    if field == "colour":
        colour = rnd.choice((0, 1, 2, 3, 4, 5, 6, 255))
    ihdr = b"IHDR" + struct.pack(">IIBB", width, height, depth, colour) + data[26:29]
    return data[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + data[33:]


def _tiff_header(data: bytes, rnd: random.Random) -> bytes:
    """TIFF with one inline size, depth or channel tag overwritten in place."""
    import tifffile

    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tif:
            tags = [t for t in tif.pages[0].tags.values()
                    if t.code in (256, 257, 258, 277, 273, 279) and t.count == 1 and t.dtype in (3, 4)]
            order = tif.byteorder
    except Exception:  # noqa: BLE001 - the seed file is already mutated; fall back to a byte flip
        return flip(data, rnd)
    if not tags:
        return flip(data, rnd)
    tag = rnd.choice(tags)
    fmt = order + ("H" if tag.dtype == 3 else "I")
    top = 0xFFFF if tag.dtype == 3 else 0xFFFFFFFF
    value = min(top, rnd.choice((*HUGE_SIDES, 7, 12, 33, 64)))
    out = bytearray(data)
    out[tag.valueoffset:tag.valueoffset + struct.calcsize(fmt)] = struct.pack(fmt, value)
    return bytes(out)


NPY_DTYPES = ("<c8", "|b1", "<M8[s]", "|O", "<U4", "|V8", ">u2", "|S3", "<f2", "<i8", "[('a', '<u2')]")


def _npy_header(data: bytes, rnd: random.Random) -> bytes:
    """NPY with its header's shape, dtype or order rewritten (the data bytes kept)."""
    try:
        buf = io.BytesIO(data)
        version = np.lib.format.read_magic(buf)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = reader(buf)
        body = data[buf.tell():]
    except Exception:  # noqa: BLE001 - an already mutated header: numpy raises many kinds; flip a byte instead
        return flip(data, rnd)
    descr = np.lib.format.dtype_to_descr(dtype)
    field = rnd.choice(("shape", "shape", "dtype", "order", "text"))
    if field == "shape":
        shape = rnd.choice(((0, 0), (0,), (), (1,), (100_000, 100_000), (2**40, 2), (1, 1, 1, 1), (-1, 4),
                            (3, 5, 7), (*shape[:2], 10**9), tuple(reversed(shape))))
    elif field == "dtype":
        descr = rnd.choice(NPY_DTYPES)
    elif field == "order":
        fortran = not fortran
    header = f"{{'descr': {descr if descr.startswith('[') else repr(descr)}, 'fortran_order': {fortran}, "
    header += f"'shape': {tuple(shape)!r}, }}"
    if field == "text":
        header = rnd.choice(("{}", "[1, 2]", "{'descr': '<u2'", "__import__('os')", "{'shape': 'x'}"))
    header = header.ljust(((len(header) + 10) // 64 + 1) * 64 - 11) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin-1") + body


ODD_SHAPES = ((0, 0), (1, 1), (1, 7), (9, 1), (6, 5, 1), (6, 5, 2), (6, 5, 3), (6, 5, 4), (6, 5, 5), (4, 6, 5),
              (2, 2, 2, 2), (7,), (0, 5, 4), (5, 0))
ODD_DTYPES = (np.uint8, np.uint16, np.int8, np.int32, np.int64, np.float16, np.float32, np.float64, np.bool_,
              np.complex64, np.uint32)


def encode(kind: str, img: np.ndarray) -> bytes:
    """``img`` as a ``kind`` file (raises ValueError or cv2.error for what the format cannot hold)."""
    if kind == "npy":
        buf = io.BytesIO()
        np.save(buf, img, allow_pickle=False)
        return buf.getvalue()
    if kind == "tiff":
        import tifffile

        buf = io.BytesIO()
        tifffile.imwrite(buf, img)
        return buf.getvalue()
    import cv2

    ok, out = cv2.imencode({"png": ".png", "jpg": ".jpg", "bmp": ".bmp"}[kind], img)
    if not ok:
        raise ValueError(f"cv2 cannot encode {img.dtype} {img.shape} as {kind}")
    return out.tobytes()


def odd_image(data: bytes, kind: str, rnd: random.Random) -> bytes:
    """A decodable ``kind`` image of an odd shape or type (the original when the format cannot hold it)."""
    import cv2

    shape, dtype = rnd.choice(ODD_SHAPES), rnd.choice(ODD_DTYPES)
    nprng = np.random.default_rng(rnd.getrandbits(32))
    img = (nprng.random(shape) * 300).astype(dtype)
    if np.dtype(dtype).kind == "f" and img.size and rnd.random() < 0.3:
        img.flat[0] = rnd.choice((np.nan, np.inf, -1.0))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tifffile: "writing zero-size array to nonconformant TIFF"
            return encode(kind, img)
    except (ValueError, TypeError, KeyError, cv2.error):
        return data


def image_header(data: bytes, kind: str, rnd: random.Random) -> bytes:
    if kind == "png":
        return _png_header(data, rnd)
    if kind == "tiff":
        return _tiff_header(data, rnd)
    if kind == "npy":
        return _npy_header(data, rnd)
    return flip(data[:64], rnd) + data[64:]  # JPEG / BMP: their headers are in the first bytes


# ---- checkpoints ---------------------------------------------------------------------------------------------


def foreign_checkpoint(data: bytes, rnd: random.Random) -> bytes:
    """torch.save of something that is not a polaraug checkpoint (or holds objects weights_only refuses)."""
    import torch

    payload = rnd.choice((
        [1, 2], "text", {"format": 3}, {"format": None}, {"weights": torch.zeros(2)},
        {"format": "polaraug", "x": {1, 2}}, {"format": "x", "a": np.zeros(2)}, {"format": "x", "f": complex(1, 2)},
        torch.zeros(3), None))
    buf = io.BytesIO()
    torch.save(payload, buf)
    return buf.getvalue()


# ---- choosing ------------------------------------------------------------------------------------------------


def mutate_once(data: bytes, kind: str, rnd: random.Random) -> tuple[str, bytes]:
    """One mutation suited to ``kind``: (its name, the new bytes)."""
    families = [("bytes", 3)]
    if kind in ("text", "json", "yaml"):
        families += [("text", 3)]
    if kind in ("json", "yaml"):
        families += [("structure", 4)]
    if kind in IMAGE_KINDS:
        families += [("header", 3), ("odd image", 2)]
    if kind == "torch":
        families += [("foreign", 1)]
    family = rnd.choices([f for f, _ in families], weights=[w for _, w in families])[0]
    if family == "structure":
        return "structure", structure(data, kind, rnd)
    if family == "header":
        return "header", image_header(data, kind, rnd)
    if family == "odd image":
        return "odd image", odd_image(data, kind, rnd)
    if family == "foreign":
        return "foreign", foreign_checkpoint(data, rnd)
    ops = TEXT_OPS if family == "text" else BYTE_OPS
    name = rnd.choice(sorted(ops))
    return name, ops[name](data, rnd)


def mutate(data: bytes, kind: str, rnd: random.Random) -> tuple[str, bytes]:
    """One to three stacked mutations of ``data`` (a ``kind`` file): (their names joined by '+', new bytes)."""
    if kind not in KINDS:
        raise ValueError(f"unknown file kind {kind!r}; one of {KINDS}")
    names = []
    for _ in range(rnd.choice((1, 1, 1, 2, 3))):
        try:
            name, data = mutate_once(data, kind, rnd)
        except Exception:  # noqa: BLE001 - an encoder refusing an odd array, a parser a mutated file: flip instead
            name, data = "flip", flip(data, rnd)
        names.append(name)
    return "+".join(names), data
