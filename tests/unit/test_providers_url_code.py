"""Secret-in-URL providers (mailchimp, wordpress): the code check, Mailchimp's GET ping,
type fields and refusals."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from gateway.providers.base import InboundRequest, Refused, Reply, ResolvedSource
from gateway.providers.url_code import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

BY_NAME = {provider.name: provider for provider in PROVIDERS}
MAILCHIMP = BY_NAME["mailchimp"]
WORDPRESS = BY_NAME["wordpress"]
CODE = "c0de-4f1b6a7e9d2c3b5a8e0f1d2c3b4a5e6f"
FORM = "application/x-www-form-urlencoded"
SUBSCRIBE = urlencode(
    {
        "type": "subscribe",
        "fired_at": "2024-01-01 00:00:00",
        "data[id]": "8a25ff1d98",
        "data[email]": "ada@example.com",
    }
).encode()
GARBAGE = ["\udcff", "é", CODE + " ", CODE[:-1], CODE.upper(), "x" * 1000]


def request(
    code: str | None,
    body: bytes = SUBSCRIBE,
    method: str = "POST",
    content_type: str = FORM,
) -> InboundRequest:
    return inbound_request(
        {"Content-Type": content_type},
        body,
        method=method,
        query={} if code is None else {"code": code},
    )


def source(name: str, *secrets: str) -> ResolvedSource:
    return resolved_source(name, *(secrets or (CODE,)))


def test_names_and_methods() -> None:
    assert set(BY_NAME) == {"mailchimp", "wordpress"}
    assert MAILCHIMP.methods == frozenset({"GET", "POST"})
    assert WORDPRESS.methods == frozenset({"POST"})


def test_mailchimp_post_type_field_and_no_delivery_id() -> None:
    accepted = MAILCHIMP.authenticate(request(CODE), source("mailchimp"), 0)
    assert accepted.event_type == "subscribe"
    assert accepted.delivery_id == ""
    assert accepted.publish


def test_mailchimp_get_ping_checks_the_code_and_publishes_nothing() -> None:
    accepted = MAILCHIMP.authenticate(request(CODE, b"", "GET"), source("mailchimp"), 0)
    assert accepted.publish is False
    assert accepted.reply == Reply(200)
    with pytest.raises(Refused, match="code mismatch"):
        MAILCHIMP.authenticate(request("wrong", b"", "GET"), source("mailchimp"), 0)
    with pytest.raises(Refused, match="missing code"):
        MAILCHIMP.authenticate(request(None, b"", "GET"), source("mailchimp"), 0)


def test_mailchimp_without_type_field_refused() -> None:
    with pytest.raises(Refused, match="no type field"):
        MAILCHIMP.authenticate(request(CODE, b"fired_at=x"), source("mailchimp"), 0)


def test_wordpress_hook_field_from_form_or_json_else_post() -> None:
    wordpress = source("wordpress")
    form = request(CODE, b"hook=publish_post&ID=12")
    assert WORDPRESS.authenticate(form, wordpress, 0).event_type == "publish_post"
    body = b'{"hook":"comment_post","ID":12}'
    as_json = request(CODE, body, content_type="application/json")
    assert WORDPRESS.authenticate(as_json, wordpress, 0).event_type == "comment_post"
    assert (
        WORDPRESS.authenticate(request(CODE, b"ID=12&post_title=Hi"), wordpress, 0).event_type
        == "post"
    )
    untyped_json = request(CODE, b'{"ID":12}', content_type="application/json")
    assert WORDPRESS.authenticate(untyped_json, wordpress, 0).event_type == "post"
    assert WORDPRESS.authenticate(request(CODE, b'{"hook":"x"}', content_type=""), wordpress, 0)
    assert WORDPRESS.authenticate(form, wordpress, 0).delivery_id == ""


def test_body_is_irrelevant_to_the_proof_but_must_parse() -> None:
    with pytest.raises(Refused, match="not JSON"):
        WORDPRESS.authenticate(
            request(CODE, b"{oops", content_type="application/json"), source("wordpress"), 0
        )


@pytest.mark.parametrize("name", ["mailchimp", "wordpress"])
def test_wrong_code_refused(name: str) -> None:
    with pytest.raises(Refused, match="code mismatch"):
        BY_NAME[name].authenticate(request("not-the-code"), source(name), 0)


@pytest.mark.parametrize("name", ["mailchimp", "wordpress"])
def test_any_current_code_accepted_during_rotation(name: str) -> None:
    rotating = source(name, "new-code-0123456789abcdef0123456789", CODE)
    for code in ("new-code-0123456789abcdef0123456789", CODE):
        assert BY_NAME[name].authenticate(request(code), rotating, 0).publish


@pytest.mark.parametrize("name", ["mailchimp", "wordpress"])
def test_missing_code_refused(name: str) -> None:
    for code in (None, ""):
        with pytest.raises(Refused, match="missing code"):
            BY_NAME[name].authenticate(request(code), source(name), 0)


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_code_only_refused(value: str) -> None:
    with pytest.raises(Refused) as refused:
        MAILCHIMP.authenticate(request(value), source("mailchimp"), 0)
    assert value not in refused.value.reason and CODE not in refused.value.reason
