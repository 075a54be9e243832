"""Every duration the project reads goes through one parser: units, and no silent nonsense."""

from __future__ import annotations

import re

import pytest

from hookwire.durations import parse_duration, parse_durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("500ms", 0.5),
        ("15s", 15.0),
        ("5m", 300.0),
        ("24h", 86400.0),
        ("180d", 180 * 86400.0),
        ("1.5h", 5400.0),
        (" 30s ", 30.0),
    ],
)
def test_a_duration_is_seconds_or_a_number_with_a_unit(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    ["", "   ", "-5", "-5s", "nan", "inf", "-inf", "1e3", "5x", "5 s", "s", "ms", "5S", "1,2",
     "\u0665s", "9" * 400],
)  # fmt: skip
def test_anything_else_is_a_value_error_naming_the_text(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_duration(text)


def test_a_list_of_durations_is_comma_separated() -> None:
    assert parse_durations("5s,5m,30m") == (5.0, 300.0, 1800.0)
    assert parse_durations("500ms") == (0.5,)


def test_blank_items_in_a_list_are_skipped() -> None:
    assert parse_durations("") == ()
    assert parse_durations(" 1s, ,2s, ") == (1.0, 2.0)


def test_a_bad_item_in_a_list_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'soon'"):
        parse_durations("5s,soon,30m")
