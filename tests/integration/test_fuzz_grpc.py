"""Random and malformed requests to every unary RPC of every hookwire.v1 service, as admin:
the broker answers each with a status that blames the request or names a missing resource,
never INTERNAL or UNKNOWN, never a storage failure, and its data stays consistent.

A seeded generator walks each request's descriptor (strings with NUL, control characters
and huge lengths, enum numbers out of range, extreme integers and times, nested messages,
maps), and some requests are bytes that are no protobuf at all. The normal run sends 200;
set HOOKWIRE_FUZZ_EXAMPLES for more, and HOOKWIRE_FUZZ_SEED for other ones.
"""

from __future__ import annotations

import os
import random
from typing import Any

import grpc
from google.protobuf import descriptor, message, message_factory

from broker.server import Broker
from hookwire.v1 import (
    deliveries_pb2,
    events_pb2,
    sources_pb2,
    subscriptions_pb2,
    tokens_pb2,
)
from tests.support.in_process import ADMIN_TOKEN, Api, connect

EXAMPLES = int(os.environ.get("HOOKWIRE_FUZZ_EXAMPLES", "200"))
SEED = int(os.environ.get("HOOKWIRE_FUZZ_SEED", "0"))
FORBIDDEN = {
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.DEADLINE_EXCEEDED,
}
STORAGE_FAILED = "storage is unavailable; retry later"
FD: Any = descriptor.FieldDescriptor

WORDS = [
    "", "\x00", "a\x00b", "\n", "\t\r", "\x7f", "é", "☃", "*", ".", "invoice.*", "invoice.paid",
    "a.b", "https://receiver.example.com/hooks", "http://127.0.0.1:1/h", "ftp://x", "sub_x",
    "evt_x", "dlv_x", "src_x", "github", "stripe", "standard_webhooks", "Authorization",
    "webhook-signature", "Content-Type", "application/json", "text/plain", "whsec_AAAA",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "url", "headers", "secret", "id", "  ",
]  # fmt: skip
INT_EDGES = [0, 1, -1, 2, 7, 99, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63), 2**32 - 1]


def services() -> list[descriptor.ServiceDescriptor]:
    modules = (events_pb2, subscriptions_pb2, deliveries_pb2, sources_pb2, tokens_pb2)
    return [s for m in modules for s in m.DESCRIPTOR.services_by_name.values()]


def unary_methods() -> list[tuple[str, descriptor.Descriptor]]:
    return [
        (f"/{service.full_name}/{method.name}", method.input_type)
        for service in services()
        for method in service.methods
        if not method.client_streaming and not method.server_streaming
    ]


class Generator:
    def __init__(self, rng: random.Random, known_ids: list[str]) -> None:
        self.rng = rng
        self.known_ids = known_ids

    def text(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            return rng.choice(WORDS)
        if roll < 0.6 and self.known_ids:
            return rng.choice(self.known_ids)
        if roll < 0.7:
            return rng.choice(WORDS) * rng.choice([64, 300, 5000])
        return "".join(chr(rng.choice([rng.randrange(0, 128), rng.randrange(128, 0xD800)]))
                       for _ in range(rng.randrange(0, 40)))  # fmt: skip

    def data(self) -> bytes:
        rng = self.rng
        fixed = [b"", b"{}", b'{"a": 1}', b"[1, 2]", b"null", b"\x00\xff", b"{", b'"x"' * 100]
        return rng.choice([*fixed, rng.randbytes(rng.randrange(0, 300))])

    def integer(self, field: Any) -> int:
        rng = self.rng
        value = rng.choice(INT_EDGES) if rng.random() < 0.6 else rng.randrange(-1000, 1000)
        bits = 32 if field.cpp_type in (FD.CPPTYPE_INT32, FD.CPPTYPE_UINT32) else 64
        if field.cpp_type in (FD.CPPTYPE_UINT32, FD.CPPTYPE_UINT64):
            return int(abs(value) % (2**bits))
        if field.cpp_type == FD.CPPTYPE_ENUM:
            bits = 32
        low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        return int(min(max(value, low), high))

    def scalar(self, field: Any) -> Any:
        rng = self.rng
        if field.type == FD.TYPE_STRING:
            return self.text()
        if field.type == FD.TYPE_BYTES:
            return self.data()
        if field.cpp_type == FD.CPPTYPE_BOOL:
            return rng.random() < 0.5
        if field.cpp_type in (FD.CPPTYPE_DOUBLE, FD.CPPTYPE_FLOAT):
            return rng.choice([0.0, -1.0, 1e300, float("inf"), float("nan"), rng.uniform(-9, 9)])
        if field.cpp_type == FD.CPPTYPE_ENUM and rng.random() < 0.6:
            return rng.choice(field.enum_type.values).number
        return self.integer(field)

    def fill(self, msg: message.Message, depth: int = 0) -> message.Message:
        rng = self.rng
        for field in msg.DESCRIPTOR.fields:
            if rng.random() < 0.4:
                continue
            entry: Any = field.message_type
            is_map = entry is not None and entry.GetOptions().map_entry
            if is_map:
                entries = getattr(msg, field.name)
                value_field: Any = entry.fields_by_name["value"]
                for _ in range(rng.choice([1, 2, 70])):
                    key = self.text()
                    if value_field.message_type is None:
                        entries[key] = self.scalar(value_field)
                    elif depth < 3:
                        self.fill(entries[key], depth + 1)
            elif field.is_repeated:
                items = getattr(msg, field.name)
                for _ in range(rng.choice([0, 1, 3, 20])):
                    if field.message_type is None:
                        items.append(self.scalar(field))
                    elif depth < 3:
                        self.fill(items.add(), depth + 1)
            elif field.message_type is not None:
                if depth < 3:
                    self.fill(getattr(msg, field.name), depth + 1)
            else:
                setattr(msg, field.name, self.scalar(field))
        return msg

    def request(self, input_type: descriptor.Descriptor) -> bytes:
        """A random request, or (one time in five) bytes that are no such request."""
        rng = self.rng
        valid = self.fill(message_factory.GetMessageClass(input_type)()).SerializeToString()
        roll = rng.random()
        if roll < 0.8:
            return valid
        if roll < 0.9 and valid:
            return valid[: rng.randrange(0, len(valid))]  # cut short
        return rng.randbytes(rng.randrange(1, 64))


async def test_random_and_malformed_requests_never_answer_internal_errors(
    broker: Broker, api: Api
) -> None:
    rng = random.Random(SEED)
    seeded = await api.create_subscription(event_types=["*"])
    published = await api.events.PublishEvent(
        events_pb2.PublishEventRequest(type="invoice.paid", data=b"{}")
    )
    generator = Generator(rng, [seeded.id, published.event.id])
    methods = unary_methods()
    metadata = (("authorization", f"Bearer {ADMIN_TOKEN}"),)
    answered: dict[str, int] = {}
    for example in range(EXAMPLES):
        method, input_type = methods[example % len(methods)]
        call: Any = api.channel.unary_unary(method)
        request = generator.request(input_type)
        try:
            await call(request, metadata=metadata, timeout=10)
            code = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as error:
            code = error.code()
            where = f"example {example} (seed {SEED}): {method} {request!r:.300}"
            assert code not in FORBIDDEN, f"{where} answered {code}: {error.details()}"
            assert error.details() != STORAGE_FAILED, f"{where} failed in storage"
            assert not (error.details() or "").startswith("Stream removed"), f"{where}: {error}"
        answered[code.name] = answered.get(code.name, 0) + 1

    assert answered.get("INVALID_ARGUMENT", 0) > EXAMPLES // 10  # the fuzzing reached checks
    async with connect(broker) as checker:
        await assert_consistent(checker)


async def assert_consistent(api: Api) -> None:
    """Every delivery's event is stored, and every listed page answers."""
    deliveries = await api.deliveries_of()
    for event_id in {d.event_id for d in deliveries}:
        await api.events.GetEvent(events_pb2.GetEventRequest(id=event_id))
    await api.subscriptions.ListSubscriptions(subscriptions_pb2.ListSubscriptionsRequest())
    await api.sources.ListSources(sources_pb2.ListSourcesRequest())
    await api.tokens.ListTokens(tokens_pb2.ListTokensRequest())
