import pytest

from broker.errors import InvalidArgument
from broker.pagination import MAX_PAGE_SIZE, cut_page, parse_page


def test_defaults_and_cap() -> None:
    assert parse_page(0, "").size == 50
    assert parse_page(5000, "").size == MAX_PAGE_SIZE


def test_negative_page_size_names_the_field() -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_page(-1, "")
    assert raised.value.field == "page_size"


@pytest.mark.parametrize("token", ["garbage", "!!!", "eyJ4IjoxfQ", "bnVsbA"])
def test_garbage_token_names_the_field(token: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_page(10, token)
    assert raised.value.field == "page_token"


def test_token_round_trip_and_filter_binding() -> None:
    page = parse_page(2, "", "subs", "ACTIVE")
    rows = ["a", "b", "c"]
    kept, token = cut_page(page, rows, lambda r: r)
    assert kept == ["a", "b"]
    assert parse_page(2, token, "subs", "ACTIVE").after == "b"
    with pytest.raises(InvalidArgument):
        parse_page(2, token, "subs", "PAUSED")


def test_last_page_has_no_token() -> None:
    page = parse_page(2, "")
    assert cut_page(page, ["a", "b"], lambda r: r) == (["a", "b"], "")
