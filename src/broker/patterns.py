"""Event types and the patterns subscriptions match them with.

A type is dot-separated segments (`invoice.paid`). A pattern is a type (exact match),
a type followed by `.*` (everything below it, at any depth), or `*` (everything).
Matching is an index lookup: a type can only be matched by the few patterns that
`candidate_patterns` lists, so the store looks those up instead of scanning subscriptions.
"""

from __future__ import annotations

import functools
import re

MAX_TYPE_LENGTH = 255
_TYPE = re.compile(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*")


@functools.lru_cache(maxsize=4096)
def type_problem(event_type: str) -> str | None:
    """Why `event_type` is not a valid type, or None."""
    if not event_type:
        return "must not be empty"
    if len(event_type) > MAX_TYPE_LENGTH:
        return f"must be at most {MAX_TYPE_LENGTH} characters"
    if not _TYPE.fullmatch(event_type):
        return (
            "must be dot-separated segments of letters, digits, '_' and '-' "
            f"(got {event_type[:64]!r})"
        )
    return None


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` is not a valid subscription pattern, or None."""
    if pattern == "*":
        return None
    base = pattern[:-2] if pattern.endswith(".*") else pattern
    problem = type_problem(base)
    if problem is None:
        return None
    return f"pattern {pattern[:64]!r} must be a type, a type followed by '.*', or '*'"


@functools.lru_cache(maxsize=4096)
def candidate_patterns(event_type: str) -> tuple[str, ...]:
    """Every pattern that matches `event_type`: itself, each ancestor + `.*`, and `*`.

    Cached, like `type_problem`: a system publishes few distinct types, many times each.
    """
    segments = event_type.split(".")
    candidates = [event_type]
    for depth in range(len(segments) - 1, 0, -1):
        candidates.append(".".join(segments[:depth]) + ".*")
    candidates.append("*")
    return tuple(candidates)


def matches(pattern: str, event_type: str) -> bool:
    """True when `pattern` selects `event_type`."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type
