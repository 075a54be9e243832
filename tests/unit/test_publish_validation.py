"""What a publish must look like before it is stored; each refusal names its field."""

from __future__ import annotations

import pytest

from broker.errors import EVENT_TOO_LARGE, InvalidArgument
from broker.publishing import PublishLimits, validate_event

LIMITS = PublishLimits(max_data_bytes=64)


def refusal(**fields: object) -> InvalidArgument:
    values: dict[str, object] = {
        "event_type": "invoice.paid",
        "data": b"{}",
        "content_type": "",
        "attributes": {},
        "idempotency_key": "",
        "limits": LIMITS,
    }
    values.update(fields)
    with pytest.raises(InvalidArgument) as caught:
        validate_event(**values)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize(
    "content_type", ["", "application/json", "Application/JSON; charset=utf-8", "; charset=utf-8"]
)
def test_data_of_every_json_content_type_must_be_json(content_type: str) -> None:
    assert refusal(data=b"{not json", content_type=content_type).field == "data"


def test_other_content_types_are_stored_as_they_come() -> None:
    event = validate_event("file.x", b"\x00\xff", "application/octet-stream", {}, "", LIMITS)
    assert event.data == b"\x00\xff" and event.content_type == "application/octet-stream"


def test_an_empty_content_type_is_stored_as_json() -> None:
    assert validate_event("a.b", b"[1]", " ", {}, "", LIMITS).content_type == "application/json"


def test_too_much_data_says_so_in_words_and_by_reason() -> None:
    too_large = refusal(data=b"[" + b"1," * 40 + b"1]")
    assert (too_large.field, too_large.reason) == ("data", EVENT_TOO_LARGE)
    assert "limit is 64" in too_large.problem
    assert refusal(event_type="bad type").reason == ""


def test_a_refusal_inside_a_batch_names_the_item_and_keeps_its_reason() -> None:
    inner = refusal(data=b"[" + b"1," * 40 + b"1]").within("events[3].")
    assert (inner.field, inner.reason) == ("events[3].data", EVENT_TOO_LARGE)
