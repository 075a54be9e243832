"""The pieces every provider shares: type sanitizing, timestamps, constant-time matching."""

from __future__ import annotations

import pytest

from broker import source_rules
from gateway.providers import registry
from gateway.providers.base import Refused, check_timestamp, matches_any, sanitize_type


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("pull_request.opened", "pull_request.opened"),
        ("orders/create", "orders.create"),
        ("repo:push", "repo.push"),
        ("zen:event-type:ticket.created", "zen.event-type.ticket.created"),
        ("command.webhook-collect", "command.webhook-collect"),
        ("sf:Contact", "sf.Contact"),
        ("a..b//c", "a.b.c"),
        ("weird name!", "weird.name"),
        ("ümlaut", "mlaut"),
        ("", ""),
        ("///", ""),
    ],
)
def test_sanitize_type(raw: str, expected: str) -> None:
    assert sanitize_type(raw) == expected


def test_check_timestamp_bounds_both_ways_and_refuses_non_ascii_digits() -> None:
    assert check_timestamp("1000", now=1300, tolerance=300) == 1000
    assert check_timestamp("1600", now=1300, tolerance=300) == 1600
    for stale in ("999", "1601"):
        with pytest.raises(Refused, match="tolerance"):
            check_timestamp(stale, now=1300, tolerance=300)
    for garbage in ("", "12a", "²", "-5", "1" * 16):
        with pytest.raises(Refused, match="malformed"):
            check_timestamp(garbage, now=1300, tolerance=300)


def test_matches_any() -> None:
    assert matches_any([b"x", b"y"], [b"z", b"y"])
    assert not matches_any([b"x"], [b"y", b"z"])
    assert not matches_any([], [b"y"])


def test_the_broker_accepts_exactly_the_providers_the_gateway_has() -> None:
    expected = {
        "github", "stripe", "slack", "shopify", "standard_webhooks", "svix", "twilio",
        "dropbox", "trello", "bitbucket", "zendesk", "pusher", "teams", "mailchimp",
        "wordpress", "salesforce", "hmac", "basic_auth", "api_key", "connector",
    }  # fmt: skip
    providers = registry()
    assert set(providers) == set(source_rules.PROVIDERS) == expected
    for name, provider in providers.items():
        assert provider.name == name
        assert provider.methods <= {"GET", "HEAD", "POST"}
