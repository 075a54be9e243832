"""Waiting for asynchronous work: `eventually` (in the test's event loop) and its blocking
twin `eventually_sync` (for the process tests, which block on gRPC and HTTP).

Both poll `predicate` until it returns something truthy, and return that. The predicate may
also raise AssertionError to say "not yet"; when the deadline passes, the last such error
(or the last falsy value) is reported. Only for waiting on work done elsewhere (a delivery
crossing a gateway, a process starting), never to let time pass: time-based behaviour is
driven with a ManualClock (in process) or a TestClock (across processes).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar, overload

T = TypeVar("T")


class _Deadline:
    """What both loops share: the deadline and the failure that names what never happened."""

    def __init__(self, predicate: object, within: float, what: str) -> None:
        self.at = time.monotonic() + within
        self.within = within
        self.what = what or repr(predicate)

    def passed(self) -> bool:
        return time.monotonic() >= self.at

    def fail(self, last: object) -> NoReturn:
        cause = last if isinstance(last, BaseException) else None
        raise AssertionError(
            f"not true within {self.within:g}s: {self.what}; last: {last!r}"
        ) from cause


# What comes back is truthy, so never None: a predicate of `Delivery | None` gives a Delivery.
@overload
async def eventually(
    predicate: Callable[[], Awaitable[T | None]],
    within: float = ...,
    interval: float = ...,
    what: str = ...,
) -> T: ...


@overload
async def eventually(
    predicate: Callable[[], T | None], within: float = ..., interval: float = ..., what: str = ...
) -> T: ...


async def eventually(
    predicate: Callable[[], object], within: float = 10.0, interval: float = 0.02, what: str = ""
) -> object:
    """Await until `predicate()` (awaited if it returns an awaitable) is truthy; return it."""
    deadline = _Deadline(predicate, within, what)
    while True:
        try:
            last = predicate()
            if inspect.isawaitable(last):
                last = await last
        except AssertionError as not_yet:
            last = not_yet
        else:
            if last:
                return last
        if deadline.passed():
            deadline.fail(last)
        await asyncio.sleep(interval)


def eventually_sync(
    predicate: Callable[[], T | None],
    within: float = 15.0,
    interval: float = 0.05,
    what: str = "",
) -> T:
    """Block until `predicate()` is truthy; return it. Slower defaults: processes are slower."""
    deadline = _Deadline(predicate, within, what)
    while True:
        last: T | AssertionError | None
        try:
            last = predicate()
        except AssertionError as not_yet:
            last = not_yet
        else:
            if last:
                return last
        if deadline.passed():
            deadline.fail(last)
        time.sleep(interval)
