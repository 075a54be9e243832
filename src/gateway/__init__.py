"""Hookwire webhook gateway: sends leased webhooks and turns inbound ones into events.

It talks to the broker only through `hookwire.v1` and holds no state of its own.
"""

from collections.abc import Callable

WallTime = Callable[[], float]
"""Reads the wall clock in unix seconds: `time.time`, or a test clock's `now`. (The
broker's `Clock` is an object with `.now()`; the gateway takes just the function.)"""
