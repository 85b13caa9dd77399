"""Small asyncio helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(aw: Awaitable[T], timeout: float | None) -> T:
    """Await ``aw`` for at most ``timeout`` seconds (None: no limit); TimeoutError after that.

    Use this, not ``asyncio.wait_for``: in Python 3.11, wait_for returns the result when a
    cancellation arrives just as the awaited call finishes, so the cancelled task carries on as if
    it had never been cancelled, and whoever waits for it to stop waits for ever. ``asyncio.timeout``
    keeps the cancellation (Python 3.12 implements wait_for with it)."""
    async with asyncio.timeout(timeout):
        return await aw
