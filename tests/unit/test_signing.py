"""Standard Webhooks signing: official vectors, rotation and verification failures."""

from __future__ import annotations

import base64

import pytest

from gateway.signing import SignatureError, generate_asymmetric_keypair, sign, verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TS = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED_V1 = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

# Self-made vector from PROTOCOLS.md 2.1 (seed = bytes 0..31).
WHSK = (
    "whsk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8DoQe/884Qvh1w3RjnS8CZZ+TWMJulDV8d3IZkElUxuA=="
)
WHPK = "whpk_A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
EXPECTED_V1A = (
    "v1a,yoUrgEkc12aGqm0n4Sydmdz55xJfTz4AsAgieHFjmkR7LJtqVCZOQYzvvHjI5kAey+r4iaBGxTFRrl2iBQxtDQ=="
)

OTHER_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"  # 24 bytes "ABC..X"


def headers(
    signature: str, *, msg_id: str = MSG_ID, ts: int = TS, prefix: str = "webhook"
) -> dict[str, str]:
    return {
        f"{prefix}-id": msg_id,
        f"{prefix}-timestamp": str(ts),
        f"{prefix}-signature": signature,
    }


def test_official_vector() -> None:
    assert sign([SECRET], MSG_ID, TS, BODY) == EXPECTED_V1


def test_secret_without_padding_is_accepted() -> None:
    unpadded = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWQ"  # 25 bytes, '==' stripped
    padded = unpadded + "=="
    assert sign([unpadded], MSG_ID, TS, BODY) == sign([padded], MSG_ID, TS, BODY)


def test_ed25519_vector() -> None:
    assert sign([WHSK], MSG_ID, TS, BODY) == EXPECTED_V1A


def test_rotation_header_has_one_entry_per_secret_in_order() -> None:
    value = sign([SECRET, WHSK, OTHER_SECRET], MSG_ID, TS, BODY)
    entries = value.split(" ")
    assert entries[:2] == [EXPECTED_V1, EXPECTED_V1A]
    assert entries[2].startswith("v1,") and entries[2] != EXPECTED_V1
    assert len(entries) == 3


def test_unknown_prefix_error_hides_secret() -> None:
    with pytest.raises(ValueError) as info:
        sign(["sk_live_supersecretvalue"], MSG_ID, TS, BODY)
    assert "supersecretvalue" not in str(info.value)


def test_public_key_cannot_sign() -> None:
    with pytest.raises(ValueError):
        sign([WHPK], MSG_ID, TS, BODY)


def test_invalid_base64_error_hides_secret() -> None:
    with pytest.raises(ValueError) as info:
        sign(["whsec_not*base64!"], MSG_ID, TS, BODY)
    assert "not*base64" not in str(info.value)


def test_verify_official_vector() -> None:
    assert verify([SECRET], headers(EXPECTED_V1), BODY, now=TS) == MSG_ID


def test_verify_any_entry_any_secret() -> None:
    header = f"v1,bm9wZQ== {EXPECTED_V1}"
    assert verify([OTHER_SECRET, SECRET], headers(header), BODY, now=TS) == MSG_ID


def test_verify_ed25519_with_public_and_private_key() -> None:
    assert verify([WHPK], headers(EXPECTED_V1A), BODY, now=TS) == MSG_ID
    assert verify([WHSK], headers(EXPECTED_V1A), BODY, now=TS) == MSG_ID


def test_v1a_entry_is_not_checked_against_hmac_secret() -> None:
    with pytest.raises(SignatureError):
        verify([SECRET], headers(EXPECTED_V1A), BODY, now=TS)


def test_headers_are_case_insensitive() -> None:
    mixed = {k.title(): v for k, v in headers(EXPECTED_V1).items()}
    assert verify([SECRET], mixed, BODY, now=TS) == MSG_ID


def test_svix_prefix() -> None:
    svix = headers(EXPECTED_V1, prefix="svix")
    assert verify([SECRET], svix, BODY, now=TS, prefix="svix") == MSG_ID
    with pytest.raises(SignatureError, match="missing header"):
        verify([SECRET], svix, BODY, now=TS)


def test_generated_keypair_round_trip() -> None:
    private, public = generate_asymmetric_keypair()
    assert private.startswith("whsk_") and public.startswith("whpk_")
    signature = sign([private], MSG_ID, TS, BODY)
    assert verify([public], headers(signature), BODY, now=TS) == MSG_ID


@pytest.mark.parametrize(
    ("secrets", "hdrs", "body", "now", "reason"),
    [
        ([SECRET], headers(EXPECTED_V1), b'{"test": 2432232315}', TS, "no matching signature"),
        ([OTHER_SECRET], headers(EXPECTED_V1), BODY, TS, "no matching signature"),
        ([SECRET], headers(EXPECTED_V1), BODY, TS + 301, "stale timestamp"),
        ([SECRET], headers(EXPECTED_V1), BODY, TS - 301, "future timestamp"),
        (
            [SECRET],
            {"webhook-id": MSG_ID, "webhook-timestamp": str(TS)},
            BODY,
            TS,
            "missing header",
        ),
        ([SECRET], headers(EXPECTED_V1, msg_id=""), BODY, TS, "missing header"),
        (
            [SECRET],
            {**headers(EXPECTED_V1), "webhook-timestamp": "1_614_265_330"},
            BODY,
            TS,
            "invalid timestamp",
        ),
        ([SECRET], headers(EXPECTED_V1, msg_id="msg.1"), BODY, TS, "invalid message id"),
        ([SECRET], headers(EXPECTED_V1, msg_id="msg\udce9"), BODY, TS, "invalid message id"),
        ([SECRET], headers("v1"), BODY, TS, "no matching signature"),
        ([SECRET], headers("v1,\u00e9\u00e9"), BODY, TS, "no matching signature"),
        ([WHPK], headers("v1a,***"), BODY, TS, "no matching signature"),
    ],
)
def test_verify_rejects(
    secrets: list[str], hdrs: dict[str, str], body: bytes, now: int, reason: str
) -> None:
    with pytest.raises(SignatureError) as info:
        verify(secrets, hdrs, body, now=now)
    assert info.value.reason == reason
    assert str(info.value) == reason


def test_tolerance_boundary_is_inclusive() -> None:
    assert verify([SECRET], headers(EXPECTED_V1), BODY, now=TS + 300) == MSG_ID
    assert verify([SECRET], headers(EXPECTED_V1), BODY, now=TS - 300) == MSG_ID


def test_signature_error_never_contains_secret_or_signature() -> None:
    with pytest.raises(SignatureError) as info:
        verify([SECRET], headers(EXPECTED_V1), b"tampered", now=TS)
    text = str(info.value)
    assert SECRET[6:] not in text
    assert EXPECTED_V1[3:] not in text


def test_whsk_with_mismatched_public_half_is_rejected() -> None:
    other_private, _ = generate_asymmetric_keypair()
    seed = base64.b64decode(WHSK[5:])[:32]
    other_pk = base64.b64decode(other_private[5:])[32:]
    with pytest.raises(ValueError, match="does not match"):
        sign(["whsk_" + base64.b64encode(seed + other_pk).decode()], MSG_ID, TS, BODY)
