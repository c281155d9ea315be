from __future__ import annotations

import io
from pathlib import Path

import pytest

from orderscope.capture import (
    CaptureFormatError,
    CaptureRecord,
    CaptureWriter,
    RecordKind,
    group_captures,
    read_capture_file,
)
from orderscope.errors import ConfigError

SAMPLE = """wss://example.test/ws <-> 1618678132.3858151
wss://example.test/ws <- 1618678132.8253062: {"op":"subscribe"}
1618678132.8258188: {"event":"heartbeat"}
1618678070.733454: b'\\x1f\\x8b\\x08\\x00'
"""


def test_reads_every_line_kind_with_exact_nanoseconds(tmp_path: Path) -> None:
    path = tmp_path / "TEST.ws.1.0"
    path.write_text(SAMPLE)
    records = list(read_capture_file(path, conn=3))
    assert [r.kind for r in records] == [
        RecordKind.OPEN,
        RecordKind.SENT,
        RecordKind.RECV,
        RecordKind.RECV,
    ]
    assert records[0].recv_ns == 1_618_678_132_385_815_100
    assert records[1].payload == '{"op":"subscribe"}'
    assert records[2].url == "wss://example.test/ws" and records[2].conn == 3
    assert records[3].payload == b"\x1f\x8b\x08\x00"  # binary frames come back as bytes


def test_writer_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "TEST.ws.1.0"
    path.write_text(SAMPLE)
    records = list(read_capture_file(path))
    buffer = io.StringIO()
    writer = CaptureWriter(buffer)
    for record in records:
        writer.write(record)
    again = tmp_path / "AGAIN.ws.1.0"
    again.write_text(buffer.getvalue())
    assert list(read_capture_file(again)) == records
    rest = CaptureRecord(5, RecordKind.REST, "https://x.test/depth?symbol=A", "{}", 0)
    buffer = io.StringIO()
    CaptureWriter(buffer).write(rest)
    assert buffer.getvalue() == "https://x.test/depth?symbol=A -> 0.000000005: {}\n"


@pytest.mark.parametrize("line", ["garbage line", "12.5 no colon", "abc: {}"])
def test_bad_lines_raise_with_the_location(tmp_path: Path, line: str) -> None:
    path = tmp_path / "TEST.ws.1.0"
    path.write_text(line + "\n")
    with pytest.raises(CaptureFormatError, match=r"TEST\.ws\.1\.0:1"):
        list(read_capture_file(path))


def test_groups_by_venue_with_info_and_http_beside(captures: Path) -> None:
    (binance,) = group_captures([captures / "BINANCE.ws.1.0"])
    assert binance.prefix == "BINANCE"
    assert binance.info == captures / "BINANCE.0"
    assert binance.http == (captures / "BINANCE.http.0.0",)
    records = list(binance.records())
    assert [r.recv_ns for r in records] == sorted(r.recv_ns for r in records)
    assert any(r.kind is RecordKind.REST for r in records)
    everything = group_captures([captures])
    assert {g.prefix for g in everything} >= {"BINANCE", "BINANCE_FUTURES", "KRAKEN", "COINBASE"}
    kraken = next(g for g in everything if g.prefix == "KRAKEN")
    assert len(kraken.ws) == 3


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        group_captures([tmp_path / "NOPE.ws.1.0"])
