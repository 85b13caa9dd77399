"""A cancellation that arrives just as an awaited call finishes must not be lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from katatui.core.aio import within

Wait = Callable[[Awaitable[int], float], Awaitable[int]]


async def cancel_as_it_finishes(wait: Wait) -> str:
    """Cancel a task in the same turn of the loop as the call it awaits finishes."""
    inner: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def worker() -> None:
        await wait(inner, 5)
        await asyncio.sleep(30)  # going on here means the cancellation was lost

    task = asyncio.create_task(worker())
    await asyncio.sleep(0)  # the worker now waits on inner
    inner.set_result(1)
    task.cancel()
    await asyncio.wait({task}, timeout=2)
    outcome = "cancelled" if task.cancelled() else "lost"
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return outcome


async def test_within_keeps_the_cancellation() -> None:
    assert await cancel_as_it_finishes(within) == "cancelled"


async def test_within_times_out() -> None:
    with pytest.raises(TimeoutError):
        await within(asyncio.sleep(5), 0.05)
    assert await within(asyncio.sleep(0, "done"), None) == "done"
