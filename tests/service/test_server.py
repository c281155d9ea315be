"""The server's event loop: uvloop where installed (the default), asyncio's on request."""

from __future__ import annotations

import asyncio
import builtins
from typing import Any

import pytest
import uvloop

from orderscope.errors import ConfigError
from orderscope.service.server import new_event_loop


@pytest.mark.parametrize(
    ("choice", "kind"),
    [("auto", uvloop.Loop), ("uvloop", uvloop.Loop), ("asyncio", asyncio.BaseEventLoop)],
)
def test_loop_of_each_choice(choice: str, kind: type) -> None:
    loop = new_event_loop(choice)
    try:
        assert isinstance(loop, kind)
        assert loop.run_until_complete(asyncio.sleep(0, "ran")) == "ran"
    finally:
        loop.close()


def test_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where uvloop is not installed (Windows), "auto" falls back and "uvloop" is refused."""
    real_import = builtins.__import__

    def no_uvloop(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "uvloop":
            raise ImportError("no uvloop here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_uvloop)
    loop = new_event_loop("auto")
    try:
        assert not isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
    with pytest.raises(ConfigError, match="uvloop"):
        new_event_loop("uvloop")
