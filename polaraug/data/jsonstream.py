"""Stream the items of a large JSON array without holding the file: BDD100K's det_train.json is ~200 MB.

Accepts a bare array ``[item, ...]`` or an object holding one, e.g. Scalabel's
``{"config": ..., "frames": [item, ...]}`` (the array may come before or after the other keys). Each item
is decoded by the C JSON scanner (``json.JSONDecoder.raw_decode``) from a sliding text buffer, so memory
stays at a few MB and speed at the scanner's. Errors name the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import DatasetError

CHUNK = 1 << 22  # 4 MiB of text per read
MAX_ITEM = 1 << 24  # an item that fails to decode with 16 MiB of text after it is malformed, not cut off
_WS = " \t\n\r"


class _Buffer:
    """A text window over a file that tracks the line number of its start."""

    def __init__(self, path: Path):
        self.path = path
        self.f = open(path, encoding="utf-8-sig")  # noqa: SIM115 (closed by close()); -sig: tolerate a BOM
        self.text, self.pos, self.line0, self.eof = "", 0, 1, False

    def close(self) -> None:
        self.f.close()

    def more(self) -> bool:
        """Drop consumed text, append the next chunk; False at end of file."""
        if self.eof:
            return False
        self.line0 += self.text.count("\n", 0, self.pos)
        self.text, self.pos = self.text[self.pos:], 0
        try:
            chunk = self.f.read(CHUNK)
        except UnicodeDecodeError as e:
            raise DatasetError(self.path, f"not UTF-8 text: {e}") from None
        self.eof = chunk == ""
        self.text += chunk
        return not self.eof

    def line(self, pos: int) -> int:
        return self.line0 + self.text.count("\n", 0, pos)

    def fail(self, message: str, pos: int | None = None) -> DatasetError:
        return DatasetError(self.path, message, self.line(self.pos if pos is None else pos))

    def peek(self) -> str:
        """Next non-blank character ('' at end of file), without consuming it."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def expect(self, chars: str, what: str) -> str:
        c = self.peek()
        if c == "" or c not in chars:
            raise self.fail(f"malformed JSON: expected {what}, found {c!r}" if c else f"unexpected end of file, "
                            f"expected {what}")
        self.pos += 1
        return c

    def value(self, decoder: json.JSONDecoder) -> Any:
        """Decode one JSON value at the current position, reading more text while it may be cut off."""
        self.peek()
        while True:
            try:
                obj, end = decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as e:
                if self.eof or e.pos < len(self.text) - MAX_ITEM:
                    raise self.fail(f"malformed JSON: {e.msg}", e.pos) from None
                self.more()  # maybe cut off: retry with more text (at end of file the next error is final)
            except RecursionError:
                raise self.fail("malformed JSON: an item nested too deeply to parse") from None
            else:
                if end == len(self.text) and not self.eof and self.more():
                    continue  # a number may go on in the next chunk ("12|345"): decode again with it
                self.pos = end
                return obj


def iter_json_array(path: str | Path, key: str = "frames") -> Iterator[Any]:
    """Yield the items of the top-level array, or of the array under ``key`` in a top-level object.

    A top-level object without ``key`` yields nothing. Raises DatasetError (file, line) on malformed JSON.
    """
    path = Path(path)
    buf = _Buffer(path)
    decoder = json.JSONDecoder()
    try:
        start = buf.expect("[{", "a JSON array or object")
        if start == "[":
            yield from _items(buf, decoder)
        else:
            yield from _object(buf, decoder, key)
        if buf.peek() != "":
            raise buf.fail("malformed JSON: extra data after the top-level value")
    finally:
        buf.close()


def _items(buf: _Buffer, decoder: json.JSONDecoder) -> Iterator[Any]:
    """Items of an array whose '[' was consumed; consumes the closing ']'."""
    if buf.peek() == "]":
        buf.pos += 1
        return
    while True:
        yield buf.value(decoder)
        if buf.expect(",]", "',' or ']' after an array item") == "]":
            return


def _object(buf: _Buffer, decoder: json.JSONDecoder, key: str) -> Iterator[Any]:
    """Members of an object whose '{' was consumed: stream the array under ``key``, decode and drop the rest."""
    if buf.peek() == "}":
        buf.pos += 1
        return
    while True:
        name = buf.value(decoder)
        if not isinstance(name, str):
            raise buf.fail("malformed JSON: object keys must be strings")
        buf.expect(":", "':' after an object key")
        if name == key and buf.peek() == "[":
            buf.pos += 1
            yield from _items(buf, decoder)
        else:
            buf.value(decoder)
        if buf.expect(",}", "',' or '}' in an object") == "}":
            return
