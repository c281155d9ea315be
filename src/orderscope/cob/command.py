"""``orderscope cob``: replay captures into a consolidated book and print it.

The venues' records are merged in receive-time order (the COB's clock), each fed through its
connector, and every event goes to the COB. The report is plain data (the ``--json`` output,
documented in docs/API.md) and byte-identical for the same input files.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from orderscope.capture import CaptureRecord
from orderscope.cob.buckets import Buckets, make_buckets
from orderscope.cob.config import CobConfig, parse_decimal
from orderscope.cob.consolidated import ConsolidatedBook
from orderscope.cob.impact import Fill, Impact, Route, impact, route
from orderscope.cob.records import CobMetrics, Stat, VenueStatus
from orderscope.errors import ConfigError
from orderscope.fixed import format_fixed
from orderscope.model import MarketEvent
from orderscope.replay import Replay, rfc3339_ns
from orderscope.venues.base import Venue, feed

FORMAT = "orderscope.cob/1"


def merged_events(session: Replay) -> Iterator[MarketEvent]:
    """Every event of every venue of a replay, the venues merged in receive-time order."""

    def records(
        venue: Venue, stream: Iterator[CaptureRecord]
    ) -> Iterator[tuple[int, Venue, CaptureRecord]]:
        for record in stream:
            yield record.recv_ns, venue, record

    streams = [
        records(venue, capture.records())
        for capture, venue in zip(session.captures, session.venues, strict=True)
    ]
    out: list[MarketEvent] = []
    for _, venue, record in heapq.merge(*streams, key=lambda item: item[0]):
        feed(venue, record, out)
        yield from out
        out.clear()


def replay_cob(files: list[Path], symbol: str, config: CobConfig | None = None) -> ConsolidatedBook:
    """A COB of ``symbol`` over every venue in ``files`` that lists it, replayed to the end."""
    session = Replay(files, [symbol], skip_unsupported=True)
    instruments = [v.instruments[symbol] for v in session.venues]
    cob = ConsolidatedBook(instruments, config)
    for event in merged_events(session):
        cob.update(event)
    return cob


def run(
    files: list[Path],
    symbol: str,
    *,
    bucket_bps: float | None = None,
    bucket_quote: str | None = None,
    buckets: int = 10,
    impact_size: str | None = None,
) -> dict[str, Any]:
    """The ``orderscope cob`` report as plain data."""
    if bucket_bps is not None and bucket_quote is not None:
        raise ConfigError("give --bucket-bps or --bucket-quote, not both")
    cob = replay_cob(files, symbol)
    report = cob_report(
        cob, make_buckets(cob, bps=bucket_bps, quote_amount=bucket_quote, count=buckets)
    )
    if impact_size is not None:
        quantity = parse_decimal(impact_size, cob.size_decimals, "--impact")
        report["impact"] = {
            side: {
                "walk": _impact(cob, impact(cob, is_buy, quantity)),
                "route": _route(cob, route(cob, is_buy, quantity)),
            }
            for side, is_buy in (("buy", True), ("sell", False))
        }
    return report


# -- the report (plain data, exact numbers as decimal strings) -------------------------------


def _price(cob: ConsolidatedBook, value: int | None) -> str | None:
    return None if value is None else format_fixed(value, cob.price_decimals)


def _size(cob: ConsolidatedBook, value: int) -> str:
    return format_fixed(value, cob.size_decimals)


def _notional(cob: ConsolidatedBook, value: int) -> str:
    return format_fixed(value, cob.price_decimals + cob.size_decimals)


def _stat(stat: Stat | None) -> dict[str, float] | None:
    return None if stat is None else {"min": stat.min, "max": stat.max, "avg": stat.avg}


def _venue(cob: ConsolidatedBook, v: VenueStatus) -> dict[str, Any]:
    return {
        "venue": v.venue,
        "exchange": v.exchange,
        "symbol": v.symbol,
        "state": v.state.value,
        "reason": v.reason,
        "since": rfc3339_ns(v.since_ns),
        "last_update": rfc3339_ns(v.last_update_ns),
        "weight": v.weight,
        "taker_fee": v.taker_fee,
        "levels": {"bids": v.bid_levels, "asks": v.ask_levels},
        "best_bid": _price(cob, v.best_bid),
        "best_ask": _price(cob, v.best_ask),
        "spread_bps": v.spread_bps,
        "bid_liquidity": _size(cob, v.bid_liquidity),
        "ask_liquidity": _size(cob, v.ask_liquidity),
        "bid_share": v.bid_share,
        "ask_share": v.ask_share,
        "crossed": v.crossed,
        "counters": v.counters,
    }


def _metrics(cob: ConsolidatedBook, m: CobMetrics) -> dict[str, Any]:
    return {
        "best_bid": _price(cob, m.best_bid),
        "best_ask": _price(cob, m.best_ask),
        "mid": m.mid,
        "spread": _price(cob, m.spread),
        "spread_bps": m.spread_bps,
        "crossed": m.crossed,
        "vw_mid": m.vw_mid,
        "micro_price": m.micro_price,
        "bid_liquidity": m.bid_liquidity,
        "ask_liquidity": m.ask_liquidity,
        "imbalance": m.imbalance,
        "imbalance_bps": cob.config.imbalance_bps,
        "depth": [
            {"bps": d.bps, "bid": d.bid, "ask": d.ask, "imbalance": d.imbalance} for d in m.depth
        ],
        "rolling": [
            {
                "window_s": w.window_ns / 1e9,
                "samples": w.samples,
                "mid": _stat(w.mid),
                "spread_bps": _stat(w.spread_bps),
                "bid_liquidity": _stat(w.bid_liquidity),
                "ask_liquidity": _stat(w.ask_liquidity),
                "imbalance": _stat(w.imbalance),
            }
            for w in m.rolling
        ],
    }


def _buckets(cob: ConsolidatedBook, buckets: Buckets) -> dict[str, Any]:
    def side(rows: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "price": _price(cob, b.price),
                "size": _size(cob, b.size),
                "weighted_size": b.weighted_size,
                "notional": _notional(cob, b.notional),
                "levels": b.levels,
                "orders": b.orders,
                "venues": {v.venue: _size(cob, v.size) for v in b.venues},
            }
            for b in rows
        ]

    return {
        "width": _price(cob, buckets.width),
        "bps": buckets.bps,
        "quote_amount": buckets.quote_amount,
        "bids": side(buckets.bids),
        "asks": side(buckets.asks),
    }


def _impact(cob: ConsolidatedBook, i: Impact) -> dict[str, Any]:
    return {
        "quantity": _size(cob, i.quantity),
        "complete": i.complete,
        "filled": _size(cob, i.filled),
        "levels": i.levels,
        "average_price": i.average_price,
        "worst_price": _price(cob, i.worst_price),
        "slippage_bps": i.slippage_bps,
        "mid_impact_bps": i.mid_impact_bps,
    }


def _fill(cob: ConsolidatedBook, f: Fill | None) -> dict[str, Any] | None:
    if f is None:
        return None
    return {
        "venue": f.venue,
        "filled": _size(cob, f.filled),
        "total": f.total,
        "levels": f.levels,
        "average_price": f.average_price,
        "worst_price": _price(cob, f.worst_price),
    }


def _route(cob: ConsolidatedBook, r: Route) -> dict[str, Any]:
    return {
        "complete": r.complete,
        "filled": _size(cob, r.filled),
        "total": r.total,
        "effective_price": r.effective_price,
        "legs": [_fill(cob, leg) for leg in r.legs],
        "best_single": _fill(cob, r.best_single),
        "single_complete": r.single_complete,
        "saving": r.saving,
        "saving_bps": r.saving_bps,
    }


def cob_report(cob: ConsolidatedBook, buckets: Buckets) -> dict[str, Any]:
    metrics = cob.metrics()
    return {
        "format": FORMAT,
        "symbol": cob.symbol,
        "quote": cob.quote,
        "time": rfc3339_ns(cob.clock),
        "price_decimals": cob.price_decimals,
        "size_decimals": cob.size_decimals,
        "venues": [_venue(cob, v) for v in metrics.venues],
        "metrics": _metrics(cob, metrics),
        "buckets": _buckets(cob, buckets),
        "arbitrage": {
            "signals": cob.arbitrage.opened,
            "open": [s.description for s in cob.arbitrage.open.values()],
        },
        "counters": cob.counters.as_dict(),
    }


# -- the terminal rendering ------------------------------------------------------------------


def _short(number: str | None) -> str:
    if number is None:
        return "-"
    return number.rstrip("0").rstrip(".") if "." in number else number


def _num(value: float | None, spec: str = ".6g") -> str:
    return "-" if value is None else format(value, spec)


def print_report(report: dict[str, Any]) -> None:
    console = Console()
    m = report["metrics"]
    console.rule(f"[bold]COB {report['symbol']}[/]  ({report['quote']})  at {report['time']}")
    venues = Table(show_edge=False, title_justify="left", pad_edge=False)
    for header in ("venue", "state", "bid", "ask", "spread bps", "bid share", "ask share"):
        venues.add_column(header, no_wrap=True, justify="left" if header == "venue" else "right")
    for v in report["venues"]:
        venues.add_row(
            v["venue"],
            v["state"],
            _short(v["best_bid"]),
            _short(v["best_ask"]),
            _num(v["spread_bps"], ".3f"),
            _num(v["bid_share"], ".1%"),
            _num(v["ask_share"], ".1%"),
        )
    console.print(venues)
    console.print(
        f"mid {_num(m['mid'])}  spread {_short(m['spread'])} ({_num(m['spread_bps'], '.3f')} bps)"
        f"  vw-mid {_num(m['vw_mid'])}  micro {_num(m['micro_price'])}\n"
        f"liquidity bid {_num(m['bid_liquidity'])} ask {_num(m['ask_liquidity'])}"
        f"  imbalance ±{m['imbalance_bps']:g} bps {_num(m['imbalance'], '+.3f')}"
    )
    for w in m["rolling"]:
        mid = w["mid"]
        spread = w["spread_bps"]
        console.print(
            f"{w['window_s']:g}s ({w['samples']} samples): "
            + (
                f"mid {mid['min']:.6g}..{mid['max']:.6g}  spread bps avg {spread['avg']:.3f}"
                if mid and spread
                else "no samples"
            )
        )
    b = report["buckets"]
    names = [v["venue"] for v in report["venues"]]
    ladder = Table(title=f"buckets of {_short(b['width'])}", show_edge=False, title_justify="left")
    for header in ("price", "size", *names):
        ladder.add_column(header, justify="right", no_wrap=True)
    for row in reversed(b["asks"]):
        ladder.add_row(
            f"[red]{_short(row['price'])}[/]",
            _short(row["size"]),
            *(_short(row["venues"].get(n)) for n in names),
        )
    for row in b["bids"]:
        ladder.add_row(
            f"[green]{_short(row['price'])}[/]",
            _short(row["size"]),
            *(_short(row["venues"].get(n)) for n in names),
        )
    console.print(ladder)
    if "impact" in report:
        for side, parts in report["impact"].items():
            walk, split = parts["walk"], parts["route"]
            legs = ", ".join(f"{leg['venue']} {_short(leg['filled'])}" for leg in split["legs"])
            console.print(
                f"{side} {_short(walk['quantity'])}: avg {_num(walk['average_price'])}"
                f" slippage {_num(walk['slippage_bps'], '.2f')} bps over {walk['levels']} levels;"
                f" route {legs or '-'} total {_num(split['total'])}"
                f" (saves {_num(split['saving'])} vs best single venue)"
            )
