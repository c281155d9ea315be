"""Volume profile: volume traded per price row over a session, a time range, or merged.

Rows are ``row`` price units high and keyed by their lower edge ``floor(price / row) * row``
(integer arithmetic on the scaled prices): a trade exactly on an edge belongs to the row that
starts there. A profile lists every row from the lowest to the highest traded row; rows inside
that range without trades are there with zero volume (they count for the value area and the
nodes). Each row has its buy and sell (aggressor) volume and trade count.

- **POC**: the row with the most volume; ties go to the row nearest the middle of the profile's
  range, then to the lower one.
- **Value area** (the standard method): start at the POC; compare the sum of the next two rows
  above with the sum of the next two rows below (fewer where the range ends) and add the larger
  pair (ties go up); repeat until at least ``value_area`` (default 70%) of the volume is inside.
  VAH and VAL are the highest and lowest rows inside (lower edges).
- **HVN / LVN**: the profile is smoothed by a centered moving sum over ``2 * smooth + 1`` rows
  (rows outside the range are empty, so they add 0). A node is a plateau of equal smoothed
  values (one row or more): a *high-volume node* when its neighbouring rows are both lower (a
  plateau at a range edge has one neighbour), a *low-volume node* when it lies strictly inside
  the range and both neighbours are higher. A node is reported at its plateau's middle row
  (the lower of two middles).

Profiles are sums: ``VolumeProfile.merge`` and ``composite`` give the profile a single pass
over all the trades would have given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

import msgspec
import polars as pl

from orderscope.errors import ConfigError
from orderscope.flow._vector import I64
from orderscope.flow.base import BUY, DAY, RowSums, check_positive, merge_rows, poc_index, ratio
from orderscope.flow.columns import TradeColumns
from orderscope.model import Side, Trade

_NO_START: Final = -(2**63)
_NO_END: Final = 2**63 - 1


@dataclass(frozen=True, slots=True)
class ProfileParams:
    value_area: float | str | Fraction = 0.70  # share of the volume inside the value area
    smooth: int = 1  # half-width, in rows, of the moving sum the nodes are found on

    def __post_init__(self) -> None:
        if ratio(self.value_area) > 1:
            raise ConfigError(f"value area must be at most 1 (100%), not {self.value_area}")
        if self.smooth < 0:
            raise ConfigError(f"smooth must be >= 0, not {self.smooth}")


class ProfileRow(msgspec.Struct, frozen=True):
    price: int  # lower edge
    buy: int
    sell: int
    trades: int

    @property
    def volume(self) -> int:
        return self.buy + self.sell

    @property
    def delta(self) -> int:
        return self.buy - self.sell


class Profile(msgspec.Struct, frozen=True):
    row: int
    rows: list[ProfileRow]  # every row from the lowest to the highest traded, ascending
    volume: int
    buy: int
    sell: int
    poc: int | None  # None for an empty profile
    vah: int | None
    val: int | None
    value_area_volume: int
    hvn: list[int]  # lower edges of the high-volume nodes, ascending
    lvn: list[int]


Cells = dict[int, list[int]]  # row lower edge -> [buy, sell, trades]


def build_profile(row: int, cells: Cells, params: ProfileParams = ProfileParams()) -> Profile:
    """The profile of summed rows (both paths end here, so they cannot disagree after it)."""
    if not cells:
        return Profile(row, [], 0, 0, 0, None, None, None, 0, [], [])
    low, high = min(cells), max(cells)
    empty = (0, 0, 0)
    rows = [ProfileRow(k, *cells.get(k, empty)) for k in range(low, high + row, row)]
    keys = [r.price for r in rows]
    volumes = [r.buy + r.sell for r in rows]
    buy = sum(r.buy for r in rows)
    total = sum(volumes)
    poc = poc_index(volumes, keys)
    lo, hi, inside = _value_area(volumes, poc, total, ratio(params.value_area))
    hvn, lvn = _nodes(volumes, params.smooth)
    return Profile(
        row,
        rows,
        total,
        buy,
        total - buy,
        keys[poc],
        keys[hi],
        keys[lo],
        inside,
        [keys[i] for i in hvn],
        [keys[i] for i in lvn],
    )


def _value_area(volumes: list[int], poc: int, total: int, share: Fraction) -> tuple[int, int, int]:
    """(lowest index, highest index, volume) of the value area grown out from the POC."""
    num, den = share.numerator, share.denominator
    lo = hi = poc
    inside = volumes[poc]
    n = len(volumes)
    while inside * den < num * total:
        up = volumes[hi + 1 : hi + 3]
        down = volumes[max(lo - 2, 0) : lo]
        if not up and not down:  # unreachable while volume is missing, kept for safety
            break
        if up and (not down or sum(up) >= sum(down)):
            hi += len(up)
            inside += sum(up)
        else:
            lo -= len(down)
            inside += sum(down)
    assert 0 <= lo <= poc <= hi < n
    return lo, hi, inside


def _nodes(volumes: list[int], smooth: int) -> tuple[list[int], list[int]]:
    """Indices of the high- and low-volume nodes of the smoothed profile."""
    n = len(volumes)
    prefix = [0]
    for v in volumes:
        prefix.append(prefix[-1] + v)
    smoothed = [prefix[min(i + smooth + 1, n)] - prefix[max(i - smooth, 0)] for i in range(n)]
    hvn: list[int] = []
    lvn: list[int] = []
    a = 0
    while a < n:
        b = a
        while b + 1 < n and smoothed[b + 1] == smoothed[a]:
            b += 1
        value = smoothed[a]
        left = smoothed[a - 1] if a > 0 else None
        right = smoothed[b + 1] if b + 1 < n else None
        middle = (a + b) // 2
        if value > 0 and (left is None or left < value) and (right is None or right < value):
            hvn.append(middle)
        elif left is not None and right is not None and left > value and right > value:
            lvn.append(middle)
        a = b + 1
    return hvn, lvn


class VolumeProfile:
    """Streaming profile of one instrument, optionally limited to ``[start_ns, end_ns)``."""

    def __init__(
        self,
        row: int,
        start_ns: int | None = None,
        end_ns: int | None = None,
        params: ProfileParams = ProfileParams(),
    ) -> None:
        self.row = check_positive("row", row)
        self.start_ns = _NO_START if start_ns is None else start_ns
        self.end_ns = _NO_END if end_ns is None else end_ns
        # Checked before the bounds: compiled, comparing with the sentinels (beyond 63 bits)
        # takes the big-int path on every trade.
        self._bounded = start_ns is not None or end_ns is not None
        self.params = params
        self.rows: dict[int, RowSums] = {}  # by row lower edge

    @property
    def cells(self) -> Cells:
        """Row lower edge -> [buy, sell, trades] (a copy)."""
        return _row_cells(self.rows)

    def update(self, trade: Trade) -> None:
        """One trade (``trade`` below takes its fields, as ``TradeStream`` passes them)."""
        self.trade(trade.exch_ns or trade.recv_ns, trade.price, trade.size, trade.side)

    def trade(self, ts: int, price: int, size: int, side: Side) -> None:
        """One trade's event time, price, size and aggressor side."""
        if self._bounded and (ts < self.start_ns or ts >= self.end_ns):
            return
        key = price - price % self.row
        cell = self.rows.get(key)
        if cell is None:
            cell = self.rows[key] = RowSums(0, 0, 0)
        if side is BUY:
            cell.buy += size
        else:
            cell.sell += size
        cell.trades += 1

    def merge(self, other: VolumeProfile) -> None:
        """Add another profile's rows (a composite); the row heights must match."""
        _same_row(self.row, other.row)
        merge_rows(self.rows, other.rows)

    def result(self) -> Profile:
        return build_profile(self.row, self.cells, self.params)


def _row_cells(rows: dict[int, RowSums]) -> Cells:
    return {key: [r.buy, r.sell, r.trades] for key, r in rows.items()}


def _same_row(row: int, other_row: int) -> None:
    if other_row != row:
        raise ConfigError(f"profiles with rows {row} and {other_row} do not merge")


def composite(profiles: Iterable[Profile], params: ProfileParams = ProfileParams()) -> Profile:
    """One profile out of several (days, venues, files) with the same row height."""
    merged: dict[int, RowSums] = {}
    row: int | None = None
    for profile in profiles:
        row = profile.row if row is None else row
        _same_row(row, profile.row)
        rows = {r.price: RowSums(r.buy, r.sell, r.trades) for r in profile.rows if r.trades}
        merge_rows(merged, rows)
    if row is None:
        raise ConfigError("a composite needs at least one profile")
    return build_profile(row, _row_cells(merged), params)


class SessionProfiles:
    """One streaming profile per session: ``[k * session_ns + offset_ns, ...)`` (UTC days)."""

    def __init__(
        self,
        row: int,
        session_ns: int = DAY,
        offset_ns: int = 0,
        params: ProfileParams = ProfileParams(),
    ) -> None:
        self.row = check_positive("row", row)
        self.session_ns = check_positive("session_ns", session_ns)
        self.offset_ns = offset_ns
        self.params = params
        self.sessions: dict[int, VolumeProfile] = {}

    def update(self, trade: Trade) -> None:
        """One trade (``trade`` below takes its fields, as ``TradeStream`` passes them)."""
        self.trade(trade.exch_ns or trade.recv_ns, trade.price, trade.size, trade.side)

    def trade(self, ts: int, price: int, size: int, side: Side) -> None:
        start = (ts - self.offset_ns) // self.session_ns * self.session_ns + self.offset_ns
        profile = self.sessions.get(start)
        if profile is None:
            profile = self.sessions[start] = VolumeProfile(self.row, params=self.params)
        profile.trade(ts, price, size, side)

    def result(self) -> dict[int, Profile]:
        """Session start (ns) -> its profile, in time order."""
        return {k: self.sessions[k].result() for k in sorted(self.sessions)}


# -- vectorized ---------------------------------------------------------------------------


def volume_profile(
    trades: pl.DataFrame | TradeColumns,
    row: int,
    start_ns: int | None = None,
    end_ns: int | None = None,
    params: ProfileParams = ProfileParams(),
) -> Profile:
    """The vectorized ``VolumeProfile`` of a trades frame."""
    check_positive("row", row)
    t = TradeColumns.of(trades).between(start_ns, end_ns)
    return build_profile(row, _cells(t, row), params)


def session_profiles(
    trades: pl.DataFrame | TradeColumns,
    row: int,
    session_ns: int = DAY,
    offset_ns: int = 0,
    params: ProfileParams = ProfileParams(),
) -> dict[int, Profile]:
    """The vectorized ``SessionProfiles``."""
    check_positive("row", row)
    check_positive("session_ns", session_ns)
    t = TradeColumns.of(trades)
    if t.height == 0:
        return {}
    if offset_ns % session_ns == 0:  # sessions are plain bars of event time
        sessions = t.time_bars(session_ns)
        starts = (sessions.keys * session_ns).tolist()
    else:

        def keys() -> I64:
            return (t.ts - offset_ns) // session_ns

        sessions = t.keyed_bars(f"session+{offset_ns}", session_ns, keys)
        starts = (sessions.keys * session_ns + offset_ns).tolist()
    s = sessions.trades
    out: dict[int, Profile] = {}
    for start, lo, hi in zip(starts, sessions.starts.tolist(), sessions.ends.tolist(), strict=True):
        part = TradeColumns(s.ts[lo:hi], s.price[lo:hi], s.size[lo:hi], s.side[lo:hi])
        out[start] = build_profile(row, _cells(part, row), params)
    return out


def _cells(t: TradeColumns, row: int) -> Cells:
    if t.height == 0:
        return {}
    sums = t.row_sums(row)
    return {
        k: [b, s, n]
        for k, b, s, n in zip(
            sums.price.tolist(),
            sums.buy.tolist(),
            sums.sell.tolist(),
            sums.trades.tolist(),
            strict=True,
        )
    }
