"""The benchmark harness itself: its synthetic stream, its sampling, its plain-data report.

Nothing here asserts on wall time; the runs are tiny.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import msgspec
import pytest
from rich.console import Console
from typer.testing import CliRunner

from orderscope.bench import cryptofeed_peer as peer
from orderscope.bench.ours import load_capture, replay
from orderscope.bench.render import print_report
from orderscope.bench.runner import BenchOptions, plan, run, run_synthetic
from orderscope.bench.synthetic import (
    SYNTHETIC_INSTRUMENT,
    Delta,
    SyntheticConfig,
    SyntheticMarket,
)
from orderscope.bench.timing import Contender, measure, measure_together
from orderscope.book import L2Book
from orderscope.capture import group_captures
from orderscope.cli import app
from orderscope.errors import ConfigError
from orderscope.model import Instrument, MarketEvent
from orderscope.venues import REGISTRY
from orderscope.venues.base import Endpoints, Venue

SMALL = SyntheticConfig(deltas=3_000, chunk=700, depth=300)


def _stream(config: SyntheticConfig) -> tuple[Delta, list[Delta]]:
    market = SyntheticMarket(config)
    snapshot = market.snapshot()
    return snapshot, [delta for chunk in market.chunks() for delta in chunk]


def test_synthetic_stream_is_deterministic() -> None:
    assert _stream(SMALL) == _stream(SMALL)
    other = SyntheticConfig(deltas=SMALL.deltas, chunk=SMALL.chunk, depth=SMALL.depth, seed=7)
    assert _stream(other) != _stream(SMALL)


def test_synthetic_deltas_are_valid_and_keep_the_book_sane() -> None:
    market = SyntheticMarket(SMALL)
    bids, asks = market.snapshot()
    live_bids, live_asks = dict(bids), dict(asks)
    assert max(live_bids) < min(live_asks)
    book = L2Book(SYNTHETIC_INSTRUMENT)
    book.apply_snapshot(bids, asks)
    count = deletes = 0
    for chunk in market.chunks():
        assert 0 < len(chunk) <= SMALL.chunk
        for delta_bids, delta_asks in chunk:
            count += 1
            assert 1 <= len(delta_bids) + len(delta_asks) <= SMALL.max_levels
            for delta, live in ((delta_bids, live_bids), (delta_asks, live_asks)):
                prices = [p for p, _ in delta]
                assert len(prices) == len(set(prices)), "a price twice in one delta"
                for price, size in delta:
                    assert price > 0 and size >= 0
                    if size == 0:
                        assert price in live, "a delete of a level that is not there"
                        del live[price]
                        deletes += 1
                    else:
                        live[price] = size
            book.apply_delta(delta_bids, delta_asks)
            assert max(live_bids) < min(live_asks), "the stream crossed the book"
    assert count == SMALL.deltas
    assert deletes > SMALL.deltas // 10  # "some deletes"
    assert book.counters.crossed_updates == 0
    assert book.bids() == sorted(live_bids.items(), reverse=True)
    assert book.asks() == sorted(live_asks.items())
    assert 400 < sum(book.depth()) < 4 * SMALL.depth  # a book of a realistic size


def test_run_synthetic_reports_every_run() -> None:
    steps: list[str] = []
    result = run_synthetic(SMALL, runs=3, told=steps.append)
    assert result.deltas == SMALL.deltas
    _, deltas = _stream(SMALL)
    assert result.levels == sum(len(b) + len(a) for b, a in deltas)
    assert len(result.timing.samples) == 3
    assert all(s >= 0 for s in result.timing.samples)
    assert len(steps) == -(-SMALL.deltas // SMALL.chunk)
    assert result.crossed_updates == 0
    assert min(result.depth) > 0


def test_measure_calibrates_passes_and_takes_the_median() -> None:
    built: list[int] = []

    def prepare(n: int) -> int:
        built.append(n)
        return n

    durations = iter([3.0, 1.0, 2.0])

    def execute(n: int) -> float:
        return next(durations) * n  # seconds per pass: 3, 1, 2

    timing = measure(prepare, execute, runs=3, min_time=0.5, first=0.1)
    assert timing.passes == 5 and built == [5, 5, 5]
    assert timing.samples == (3.0, 1.0, 2.0)
    assert timing.median == 2.0
    assert timing.rate(10) == 5.0
    with pytest.raises(ValueError, match="runs"):
        measure(prepare, execute, runs=0, min_time=0.5, first=0.1)


def test_contenders_are_sampled_in_turn() -> None:
    order: list[str] = []

    def contender(name: str, first: float) -> Contender[int]:
        def execute(n: int) -> float:
            order.append(f"{name}{n}")
            return 0.1 * n

        return Contender(lambda n: n, execute, first)

    a, b = measure_together([contender("a", 0.1), contender("b", 0.3)], runs=2, min_time=0.5)
    assert order == ["a5", "b2", "a5", "b2"]
    assert (a.passes, b.passes) == (5, 2)
    assert a.samples == b.samples == (0.1, 0.1)


def test_each_run_takes_its_samples_in_slices_in_turn() -> None:
    order: list[str] = []
    per_pass = {"a": iter([1.0, 3.0, 5.0, 7.0]), "b": iter([2.0, 4.0, 6.0, 8.0])}

    def contender(name: str, first: float) -> Contender[int]:
        def execute(n: int) -> float:
            order.append(f"{name}{n}")
            return next(per_pass[name]) * n

        return Contender(lambda n: n, execute, first)

    a, b = measure_together(
        [contender("a", 0.1), contender("b", 0.3)], runs=2, min_time=0.5, slices=2
    )
    # 5 and 2 passes a sample, in slices of 3 and 1, the two contenders' slices in turn
    assert order == ["a3", "b1", "a3", "b1"] * 2
    assert (a.passes, b.passes) == (6, 2)
    assert a.samples == (2.0, 6.0) and b.samples == (3.0, 7.0)  # each its slices' mean
    with pytest.raises(ValueError, match="slices"):
        measure_together([contender("a", 0.1)], runs=1, min_time=0.5, slices=0)


def test_responses_serve_by_url_then_repeat_then_substitute() -> None:
    snapshots = peer._Responses([("u1", "a")])
    with pytest.raises(KeyError):  # a book snapshot is never served for another URL
        snapshots.take("u2")
    responses = peer._Responses([("u1", "a"), ("u2", "b"), ("u3", "c")], substitute=True)
    assert responses.take("u2") == "b"
    assert responses.take("u2") == "b" and responses.repeated == 1
    assert responses.take("renamed") == "a"
    assert responses.substituted == ["asked renamed, served u1"]
    assert responses.take("u3") == "c"
    with pytest.raises(KeyError):
        responses.take("nothing left")


def test_plan_rejects_unknown_names(captures: Path) -> None:
    with pytest.raises(ConfigError, match="no capture with a connector named"):
        plan(BenchOptions(captures=captures, only=frozenset({"nowhere"})))


def test_runner_on_one_capture(captures: Path) -> None:
    options = BenchOptions(
        captures=captures,
        runs=2,
        only=frozenset({"BINANCE"}),  # a capture prefix, in any case
        min_time=0.0,
        peers=False,
    )
    the_plan = plan(options)
    assert [c.prefix for c in the_plan.captures] == ["BINANCE"]
    assert the_plan.synthetic_chunks == 0
    assert "BINANCE_FUTURES" not in the_plan.skipped  # it has a connector, just not chosen
    steps: list[str] = []
    report = run(options, the_plan, steps.append)
    assert len(steps) == the_plan.steps
    (venue,) = report.venues
    frames = sum(
        1
        for path in captures.glob("BINANCE.ws.*")
        for line in path.read_text().splitlines()
        if line[:1].isdigit()
    )
    assert venue.frames == venue.counts.frames == frames
    assert venue.counts.books == 4 and venue.counts.snapshots == 4
    assert venue.counts.gaps == 0 and venue.counts.errors == 0
    assert venue.counts.levels > 4 * 500  # the REST snapshots alone
    # min_time 0: one pass a slice, so a sample is the 4 slices' passes
    assert venue.timing.passes == options.slices == 4 and len(venue.timing.samples) == 2
    assert venue.peer is None and venue.ratio is None
    data = msgspec.json.decode(msgspec.json.encode(report.as_dict()))
    assert data["format"] == "orderscope.bench/1"
    assert data["venues"][0]["orderscope"]["levels"] == venue.counts.levels
    assert data["synthetic"] is None
    console = Console(file=io.StringIO(), width=160)
    print_report(report, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "BINANCE" in text and "targets: nothing measured against a target" in text


def test_cli_json(captures: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "--captures",
            str(captures),
            "--runs",
            "1",
            "--min-time",
            "0",
            "--only",
            "synthetic",
            "--deltas",
            "500",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = msgspec.json.decode(result.stdout)
    assert data["venues"] == []
    assert data["synthetic"]["deltas"] == 500
    assert data["synthetic"]["levels"] > 500


def test_cli_slices_reach_the_capture_samples(captures: Path) -> None:
    args = ["bench", "--captures", str(captures), "--runs", "1", "--min-time", "0"]
    args += ["--only", "BINANCE", "--no-peers", "--slices", "3", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    [venue] = msgspec.json.decode(result.stdout)["venues"]
    assert venue["orderscope"]["passes_per_sample"] == 3  # a pass a slice


@pytest.mark.skipif(
    importlib.util.find_spec("cryptofeed") is None, reason="the bench extra is not installed"
)
def test_cryptofeed_builds_books_on_a_capture(captures: Path) -> None:
    options = BenchOptions(
        captures=captures, runs=1, only=frozenset({"binance"}), min_time=0.0, peers=True
    )
    (venue,) = run(options, plan(options)).venues
    assert venue.peer is not None and venue.peer.error is None, venue.peer
    counts = venue.peer.counts
    assert counts is not None
    assert counts.book_callbacks > 100 and counts.books == 4
    assert counts.snapshot_requests == 4 and counts.repeated_snapshots == 0
    assert venue.top_of_book == (4, 4)  # both libraries end with the same best bid and ask
    assert venue.ratio is not None and venue.ratio > 0


class _LaterVenue(Venue):
    """Stands for a connector merged later (Kraken here): it only has to be registered."""

    name = "kraken_later"
    capture_prefix = "KRAKEN"
    default_endpoints = Endpoints("wss://kraken.invalid", "https://kraken.invalid")

    @classmethod
    def parse_instruments(cls, url: str, body: str | bytes) -> list[Instrument]:
        return [msgspec.structs.replace(SYNTHETIC_INSTRUMENT, venue=cls.name)]

    def on_frame(self, conn: int, frame: str | bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        self.stats.ignored_frames += 1


def test_a_connector_registered_later_is_benchmarked(
    captures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(REGISTRY, "kraken")  # as before Kraken's connector was merged
    monkeypatch.setitem(REGISTRY, _LaterVenue.name, _LaterVenue)
    options = BenchOptions(
        captures=captures,
        runs=1,
        only=frozenset({"kraken_later"}),
        min_time=0.0,
        peers=importlib.util.find_spec("cryptofeed") is not None,
    )
    the_plan = plan(options)
    assert [c.prefix for c in the_plan.captures] == ["KRAKEN"]
    (venue,) = run(options, the_plan).venues
    assert venue.venue == "kraken_later" and venue.frames > 4000  # three ws files
    if options.peers:  # cryptofeed verifies Kraken's checksums on every book frame
        assert venue.peer is not None and venue.peer.error is None, venue.peer
        assert venue.peer.checksum_validation
        assert venue.peer.counts is not None and venue.peer.counts.book_callbacks > 4000


def test_each_pass_is_let_go_after_it(captures: Path) -> None:
    """A sample's passes do not pile up: each contender's pass state leaves the list it was
    prepared in (and is freed, untimed) once the pass is over."""
    (binance,) = [c for c in group_captures([captures]) if c.prefix == "BINANCE"]
    loaded = load_capture(binance)
    venues = [loaded.new_venue() for _ in range(3)]
    assert replay(venues, loaded.records) > 0
    assert venues == []
    capture = peer.load_peer(loaded)
    passes = [peer.new_pass(capture) for _ in range(2)]
    assert peer.drive(capture, passes) > 0
    assert passes == []
