"""Reading one setting from the environment: the rules every process's reader shares.

`broker.config.BrokerConfig.from_env` and `gateway.main.GatewayConfig.from_env` each read
their process's environment once; both read a value through `setting`, so a bad value
stops the process before anything starts with one line naming the setting
(`HOOKWIRE_LEASE_SECONDS: not a duration: 'soon' ...`), whichever process reads it. It lives
here, beside the duration parser, because the gateway may not import the broker.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")
_WHOLE = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")


class SettingError(ValueError):
    """A setting with a value the process cannot run with; its text is `NAME: problem`."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting


def setting(env: Mapping[str, str], name: str, parse: Callable[[str], T], default: T) -> T:
    """`parse` of `env[name]`, or `default` when it is unset or blank; a ValueError from
    `parse` becomes a SettingError naming `name`."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        return parse(text)
    except SettingError:
        raise
    except ValueError as exc:
        raise SettingError(name, str(exc)) from None


def count(minimum: int = 0) -> Callable[[str], int]:
    """A parser of whole numbers of at least `minimum` (`1024`; not `-1`, `1.5`, `1e3`)."""

    def parse(text: str) -> int:
        if not _WHOLE.fullmatch(text.strip()):
            raise ValueError(f"not a whole number: {text!r}")
        value = int(text)
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def non_negative_number(text: str) -> float:
    """`3`, `0.5`, `0`: a plain number that is not negative."""
    if not _NUMBER.fullmatch(text.strip()):
        raise ValueError(f"not a non-negative number: {text!r}")
    return float(text)


def log_level(text: str) -> str:
    """`DEBUG`, `info`, `WARNING`, `ERROR`, `CRITICAL` → the level's name."""
    name = text.strip().upper()
    if not isinstance(logging.getLevelNamesMapping().get(name), int):
        raise ValueError(
            f"not a log level: {text!r} (expected DEBUG, INFO, WARNING, ERROR or CRITICAL)"
        )
    return name
