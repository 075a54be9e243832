import pytest

from broker import subscription_rules as rules
from broker.clock import SeededRandom
from broker.credentials import new_hmac_secret
from broker.errors import InvalidArgument


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "example.com/hook", "https://user:pw@example.com/", "https://@example.com/",
     "http:///nohost", "https://example.com/a b", "https://example.com/#frag", "", "https://example.com:99999/"],
)  # fmt: skip
def test_bad_urls(url: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        rules.check_url("subscription.url", url)
    assert raised.value.field == "subscription.url"


@pytest.mark.parametrize("url", ["https://example.com/hook", "http://10.0.0.1:8080/x?y=1"])
def test_good_urls(url: str) -> None:
    assert rules.check_url("subscription.url", url) == url


@pytest.mark.parametrize(
    "name",
    ["webhook-signature", "Webhook-Id", "Host", "Content-Length", "Transfer-Encoding", "bad name"],
)
def test_reserved_or_invalid_headers(name: str) -> None:
    with pytest.raises(InvalidArgument):
        rules.check_headers("subscription.headers", {name: "x"})


def test_header_value_injection_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        rules.check_headers("subscription.headers", {"X-A": "1\r\nX-B: 2"})


def test_secret_format() -> None:
    good = new_hmac_secret(SeededRandom())
    assert rules.check_secret("s", good) == good
    for bad in ["nope", "whsec_", "whsec_!!!!", "whsec_" + "QUFB" * 2]:
        with pytest.raises(InvalidArgument):
            rules.check_secret("s", bad)


def test_reserved_properties() -> None:
    with pytest.raises(InvalidArgument):
        rules.check_properties("subscription.properties", {"data": "x"})
    assert rules.check_properties("subscription.properties", {"tenant": "a"}) == {"tenant": "a"}


def test_schedule_bounds() -> None:
    assert rules.check_schedule("s", [0, 1.5]) == [0, 1.5]
    with pytest.raises(InvalidArgument):
        rules.check_schedule("s", [-1])
    with pytest.raises(InvalidArgument):
        rules.check_schedule("s", [1.0] * 21)
