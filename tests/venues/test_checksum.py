"""Checksum helpers: signed CRC32, interleaving, and JavaScript's number text, proven on every
number of the Bitfinex capture."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import msgspec
import pytest

from orderscope.capture import RecordKind, read_capture_file
from orderscope.fixed import parse_fixed_float
from orderscope.venues.checksum import (
    interleave,
    js_decimal_text,
    js_number_text,
    signed_crc32,
)

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def test_signed_crc32_is_zlib_crc32_as_a_signed_int() -> None:
    for text in ("", "100:1:101:2", "3366.1:7:3366.8:9:3366:6:3368:8"):
        unsigned = zlib.crc32(text.encode())
        assert signed_crc32(text) % 2**32 == unsigned
        assert -(2**31) <= signed_crc32(text) < 2**31
    assert signed_crc32("100:1:101:2") == -538653813


def test_interleave_stops_the_shorter_side() -> None:
    assert interleave(["b1", "b2", "b3"], ["a1"]) == "b1:a1:b2:b3"
    assert interleave([], ["a1", "a2"]) == "a1:a2"
    assert interleave([], []) == ""


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (60400.0, "60400"),
        (-382.22913024, "-382.22913024"),
        (0.00000125, "0.00000125"),  # Python: 1.25e-06
        (5e-7, "5e-7"),  # JS switches to exponents below 1e-6
        (1.1e-7, "1.1e-7"),
        (0.000001, "0.000001"),
        (1e21, "1e+21"),
        (1.5e20, "150000000000000000000"),  # Python: 1.5e+20
        (1.7023900800000002, "1.7023900800000002"),
    ],
)
def test_js_number_text(value: float, text: str) -> None:
    assert js_number_text(value) == text


def walk(value: object) -> list[float | int]:
    if isinstance(value, list):
        return [n for item in value for n in walk(item)]
    return [value] if isinstance(value, int | float) and not isinstance(value, bool) else []


def test_every_number_of_the_bitfinex_capture_is_written_back_as_sent(captures: Path) -> None:
    """Bitfinex writes its JSON with JavaScript; the texts, decoded and written back, and the
    exact 8-decimal values written back, are the very texts of the capture."""
    floats = integers = noisy = 0
    for record in read_capture_file(captures / "BITFINEX.ws.11.0"):
        text = str(record.payload)
        if record.kind is not RecordKind.RECV or not text.startswith("["):
            continue
        tokens = NUMBER.findall(text)
        values = walk(msgspec.json.decode(text))
        assert len(tokens) == len(values)
        for token, value in zip(tokens, values, strict=True):
            if isinstance(value, int):
                integers += 1
                assert str(value) == token
                continue
            floats += 1
            assert js_number_text(value) == token
            scaled = parse_fixed_float(abs(value), 8)
            if abs(value) != scaled / 10**8:  # Bitfinex's own float noise (ticker sums)
                noisy += 1
                continue
            assert ("-" if value < 0 else "") + js_decimal_text(scaled, 8) == token
    assert (floats, integers, noisy) == (4094, 9074, 19)  # the 19: ticker sizes and volumes
