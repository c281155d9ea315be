"""Order-flow analytics over trades: each a streaming state object and a vectorized function.

=========================  ==========================  ===================================
module                     streaming (update/result)   vectorized (Polars trades frame)
=========================  ==========================  ===================================
``flow.trades``            ``TradeFlow``               ``trade_flow``, ``rolling_shares``
``flow.footprint``         ``Footprint``               ``footprint``
``flow.profile``           ``VolumeProfile``,          ``volume_profile``,
                           ``SessionProfiles``         ``session_profiles``
``flow.delta``             ``CumulativeDelta``         ``delta_bars``
``flow.vwap``              ``Vwap``                    ``vwap``
=========================  ==========================  ===================================

Both paths return the same result objects (frozen msgspec Structs), equal to the last unit.
A live session feeds several streaming analytics (and the signal engine) through one
``flow.stream.TradeStream``, which reads each trade's fields once.
``flow.base`` holds what they share (event time, the trades frame schema, rows, POC ties).
The vectorized functions take a frame or a ``flow.columns.TradeColumns``: given one, several
analytics share its bars, per-bar figures and rows (cut once, not once per analytic).

Book-side analytics share one exact copy of the book per instrument (``flow.book_tracker``):
``flow.micro`` (OFI, size-weighted mid, VPIN, Kyle's lambda, liquidity consumed),
``flow.microprice`` (Stoikov's micro-price) and ``flow.signals`` (the detectors); their batch
paths read the frames of ``flow.batches``.
"""
