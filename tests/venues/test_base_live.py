"""The shared helpers of the connectors' live API."""

from __future__ import annotations

import pytest

from orderscope.venues import REGISTRY
from orderscope.venues.base import batched, grouped


def test_batched_cuts_in_order() -> None:
    assert batched([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert batched([], 3) == []
    with pytest.raises(ValueError):
        batched([1], 0)


def test_grouped_keeps_order_and_each_group_within_the_limit() -> None:
    assert grouped([3, 3, 3, 2, 5], lambda n: n, 6) == [[3, 3], [3, 2], [5]]
    assert grouped([7, 1], lambda n: n, 6) == [[7], [1]]  # too dear alone: a group of its own
    assert grouped([1, 2, 3], lambda n: n, None) == [[1, 2, 3]]
    assert grouped([], lambda n: n, 6) == []


def test_every_venue_states_sane_keepalive_rules() -> None:
    for cls in REGISTRY.values():
        keep = cls.keepalive
        if keep.stale_after_s is not None and keep.ping_text is not None:
            # a ping must go out, and have time to be answered, before the feed counts as stale
            assert keep.ping_after_s < keep.stale_after_s, cls.name
        assert cls.default_endpoints.ws.startswith("wss://"), cls.name
        assert cls.default_endpoints.rest.startswith("https://"), cls.name
        assert cls.instruments_urls(cls.default_endpoints), cls.name
