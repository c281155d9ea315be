# The C kernel of orderscope/_okx.c (built by setup.py; absent in a pure build or run).
# scan_books returns what the OKX connector's msgspec path makes of a books frame of the usual
# shape, or None for any other frame (the connector then runs that path): see
# orderscope.venues.okx for the reference. units: instId -> (price_decimals, wire_decimals,
# contract multiplier).

def scan_books(
    frame: str | bytes, units: dict[str, tuple[int, int, int]]
) -> (
    tuple[
        str,
        str,
        bool,
        list[tuple[int, int]],
        list[tuple[int, int]],
        int,
        int | None,
        int | None,
        int | None,
    ]
    | None
): ...
