"""Live-session descriptions shared by the connectors."""

from __future__ import annotations

import pytest

from orderscope.venues.wire import batched


def test_batched_cuts_in_order() -> None:
    assert batched([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert batched([], 3) == []
    with pytest.raises(ValueError):
        batched([1], 0)
