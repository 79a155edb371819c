"""Blocking work off the UI thread: one bounded pool, awaited from qasync coroutines."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
HTTP_WORKERS = 5
_EXECUTOR: ThreadPoolExecutor | None = None


def executor() -> ThreadPoolExecutor:
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=HTTP_WORKERS, thread_name_prefix="impdesk-http")
    return _EXECUTOR


async def run_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call (HTTP, keyring) on the pool and await its result."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor(), functools.partial(fn, *args, **kwargs))


def shutdown() -> None:
    """Stop accepting work; running calls finish on their own (they have timeouts)."""
    global _EXECUTOR
    if _EXECUTOR is not None:
        _EXECUTOR.shutdown(wait=False, cancel_futures=True)
        _EXECUTOR = None


class TaskSet:
    """Keeps references to running tasks (asyncio holds them only weakly)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        task = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            import sys

            exc = task.exception()
            sys.excepthook(type(exc), exc, exc.__traceback__)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def __len__(self) -> int:
        return len(self._tasks)


class Changes:
    """What the app is sending to the service right now, so that quitting can warn first."""

    def __init__(self) -> None:
        self._active: dict[int, str] = {}
        self._tokens = itertools.count()

    @contextlib.contextmanager
    def sending(self, label: str) -> Iterator[None]:
        """Mark the block as a change in flight, described to people by `label`."""
        token = next(self._tokens)
        self._active[token] = label
        try:
            yield
        finally:
            del self._active[token]

    def labels(self) -> list[str]:
        return list(self._active.values())
