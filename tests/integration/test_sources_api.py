"""SourceService against a real broker: create, read, list, delete, rotate, resolve, and
the INVALID_ARGUMENT / NOT_FOUND answers that name what is wrong."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from broker.clock import ManualClock
from broker.server import Broker
from hookwire.v1 import sources_pb2 as pb
from tests.support.in_process import Api, expect_rpc_error

GITHUB_SECRET = "It's a Secret to Everybody"


async def create(api: Api, **fields: Any) -> pb.Source:
    answer = await api.sources.CreateSource(pb.CreateSourceRequest(source=pb.Source(**fields)))
    return answer.source


async def test_create_answers_an_ingest_url_and_never_returns_the_secret(
    api: Api, broker: Broker
) -> None:
    created = await create(api, provider="github", secret=GITHUB_SECRET, description="ci")
    assert created.id.startswith("src_")
    assert created.ingest_url == f"{broker.config.public_url}/in/{created.id}"
    assert created.event_type_prefix == "github"
    assert created.secret == ""
    got = (await api.sources.GetSource(pb.GetSourceRequest(id=created.id))).source
    assert (got.id, got.provider, got.description, got.secret) == (created.id, "github", "ci", "")
    listed = (await api.sources.ListSources(pb.ListSourcesRequest())).sources
    assert [s.id for s in listed] == [created.id]
    assert all(GITHUB_SECRET not in str(s) for s in listed)


async def test_resolve_gives_gateways_the_secrets(api: Api, gateway_api: Api) -> None:
    created = await create(api, provider="stripe", secret="whsec_abc", event_type_prefix="pay")
    resolved = await gateway_api.sources.ResolveSource(pb.ResolveSourceRequest(id=created.id))
    assert list(resolved.secrets) == ["whsec_abc"]
    assert not resolved.deleted
    assert resolved.source.event_type_prefix == "pay"


async def test_a_connector_url_carries_a_256_bit_credential_shown_once(api: Api) -> None:
    created = await create(api, provider="connector")
    base, _, token = created.ingest_url.rpartition("/")
    assert base.endswith(f"/in/{created.id}")
    assert len(token) >= 43  # 32 bytes, base64url without padding
    other = await create(api, provider="connector")
    assert other.ingest_url.rpartition("/")[2] != token
    got = (await api.sources.GetSource(pb.GetSourceRequest(id=created.id))).source
    assert got.ingest_url == ""
    listed = (await api.sources.ListSources(pb.ListSourcesRequest(provider="connector"))).sources
    assert all(token not in str(s) for s in listed)


async def test_delete_makes_it_gone_but_resolvable_as_deleted(api: Api, gateway_api: Api) -> None:
    created = await create(api, provider="connector")
    await api.sources.DeleteSource(pb.DeleteSourceRequest(id=created.id))
    await expect_rpc_error(
        api.sources.GetSource(pb.GetSourceRequest(id=created.id)), grpc.StatusCode.NOT_FOUND
    )
    await expect_rpc_error(
        api.sources.DeleteSource(pb.DeleteSourceRequest(id=created.id)), grpc.StatusCode.NOT_FOUND
    )
    resolved = await gateway_api.sources.ResolveSource(pb.ResolveSourceRequest(id=created.id))
    assert resolved.deleted and list(resolved.secrets) == []
    assert (await api.sources.ListSources(pb.ListSourcesRequest())).sources == []


async def test_rotation_keeps_the_old_secret_for_the_overlap(
    api: Api, clock: ManualClock, gateway_api: Api
) -> None:
    created = await create(api, provider="shopify", secret="old-secret")
    rotated = await api.sources.RotateSourceSecret(
        pb.RotateSourceSecretRequest(
            id=created.id, secret="new-secret", overlap=Duration(seconds=60)
        )
    )
    assert rotated.source.previous_secret_expire_time.seconds == int(clock.now()) + 60
    resolve = pb.ResolveSourceRequest(id=created.id)
    assert list((await gateway_api.sources.ResolveSource(resolve)).secrets) == [
        "new-secret",
        "old-secret",
    ]
    clock.advance(61)
    assert list((await gateway_api.sources.ResolveSource(resolve)).secrets) == ["new-secret"]


async def test_rotating_a_connector_issues_a_new_url(api: Api) -> None:
    created = await create(api, provider="connector")
    rotated = (
        await api.sources.RotateSourceSecret(pb.RotateSourceSecretRequest(id=created.id))
    ).source
    assert rotated.ingest_url != created.ingest_url
    assert rotated.ingest_url.rpartition("/")[0] == created.ingest_url.rpartition("/")[0]


async def test_pages_through_sources(api: Api) -> None:
    ids = [(await create(api, provider="github", secret=f"s{i}")).id for i in range(7)]
    seen, token = [], ""
    while True:
        page = await api.sources.ListSources(pb.ListSourcesRequest(page_size=3, page_token=token))
        seen += [s.id for s in page.sources]
        token = page.next_page_token
        if not token:
            break
    assert seen == ids
    await expect_rpc_error(
        api.sources.ListSources(pb.ListSourcesRequest(page_token="garbage")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "page_token",
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"provider": "myspace", "secret": "x"}, "source.provider"),
        ({"provider": "github"}, "source.secret"),
        ({"provider": "connector", "secret": "chosen"}, "source.secret"),
        ({"provider": "github", "secret": "x", "event_type_prefix": "bad prefix"},
         "source.event_type_prefix"),
        ({"provider": "github", "secret": "x", "options": {"header": "X-Sig"}},
         "source.options.header"),
        ({"provider": "hmac", "secret": "x"}, "source.options.header"),
        ({"provider": "hmac", "secret": "x", "options": {"header": "X-Sig", "algorithm": "md5"}},
         "source.options.algorithm"),
        ({"provider": "hmac", "secret": "x",
          "options": {"header": "X-Sig", "template": "{timestamp}.{body}"}},
         "source.options.timestamp_header"),
        ({"provider": "standard_webhooks", "secret": "not-whsec"}, "source.secret"),
        ({"provider": "pusher", "secret": "no-key"}, "source.secret"),
        ({"provider": "basic_auth", "secret": "no-colon"}, "source.secret"),
        ({"provider": "salesforce", "secret": "short"}, "source.secret"),
        ({"provider": "stripe", "secret": "x", "options": {"tolerance_seconds": "-5"}},
         "source.options.tolerance_seconds"),
    ],
)  # fmt: skip
async def test_bad_sources_are_refused_naming_the_field(
    api: Api, fields: dict[str, Any], field: str
) -> None:
    await expect_rpc_error(
        api.sources.CreateSource(pb.CreateSourceRequest(source=pb.Source(**fields))),
        grpc.StatusCode.INVALID_ARGUMENT,
        field,
    )
    assert (await api.sources.ListSources(pb.ListSourcesRequest())).sources == []


async def test_unknown_ids_are_not_found(api: Api, gateway_api: Api) -> None:
    for call in (
        api.sources.GetSource(pb.GetSourceRequest(id="src_nope")),
        gateway_api.sources.ResolveSource(pb.ResolveSourceRequest(id="src_nope")),
        api.sources.RotateSourceSecret(pb.RotateSourceSecretRequest(id="src_nope", secret="x")),
    ):
        await expect_rpc_error(call, grpc.StatusCode.NOT_FOUND)
