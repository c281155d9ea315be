"""Rate limits and CORS on a real server (no feeds behind it: access control comes first)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from orderscope.api.app import Service
from orderscope.api.security import RateLimiter
from orderscope.service.server import ServerThread
from tests.api.conftest import AUTH, TOKEN, config


@pytest.fixture(scope="module")
def strict() -> Iterator[ServerThread]:
    cfg = config(requests_per_second=0.5, burst=3, cors_origins=("https://desk.example",))
    server = ServerThread(Service(cfg)).start()
    yield server
    server.stop()


def test_rate_limit_per_client(strict: ServerThread) -> None:
    with httpx.Client(base_url=strict.url, headers=AUTH) as http:
        answers = [http.get("/api/v1/symbols") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        limited = answers[-1]
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        # a WebSocket handshake counts too, and is refused with the same answer
        with pytest.raises(InvalidStatus) as refused:
            connect(strict.url.replace("http", "ws") + f"/ws/orderflow?token={TOKEN}")
        assert refused.value.response.status_code == 429
        # the page and the docs are not rate limited
        assert http.get("/").status_code == 200


def test_cors_only_for_configured_origins(strict: ServerThread) -> None:
    with httpx.Client(base_url=strict.url) as http:
        allowed = http.options(
            "/api/v1/symbols",
            headers={"Origin": "https://desk.example", "Access-Control-Request-Method": "GET"},
        )
        assert allowed.headers["access-control-allow-origin"] == "https://desk.example"
        other = http.options(
            "/api/v1/symbols",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in other.headers


def test_token_buckets_refill() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=2, clock=lambda: now[0])
    assert limiter.allow("a") == 0 and limiter.allow("a") == 0
    assert limiter.allow("a") == pytest.approx(0.5)
    assert limiter.allow("b") == 0  # per key
    now[0] = 0.5
    assert limiter.allow("a") == 0
