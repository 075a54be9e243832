"""Sizes and durations for full and quick runs, and what one scenario run returns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Settings:
    quick: bool
    repeat: int  # runs per scenario (the heavy ones may use fewer; see *_repeat)
    warmup: float  # seconds before a throughput window opens
    duration: float  # seconds in a throughput window
    concurrency: int = 64  # unary gRPC calls / POSTs in flight
    batch: int = 100  # events per PublishEvents call in publish_batch and e2e
    batch_concurrency: int = 8  # PublishEvents calls in flight in publish_batch
    latency_rate: float = 500.0
    latency_seconds: float = 10.0
    latency_warmup: float = 0.5  # events published in the first 0.5 s are not counted
    fanout: int = 1000
    slow_timeout: float = 5.0  # HOOKWIRE_REQUEST_TIMEOUT while an endpoint hangs
    backlog: int = 100_000
    backlog_repeat: int = 3
    pending: int = 1_000_000
    pending_repeat: int = 3
    heavy_budget: float = 240.0  # no further run of backlog/pending after this many seconds

    @classmethod
    def full(cls, repeat: int | None = None) -> Settings:
        return cls(quick=False, repeat=repeat or 3, warmup=1.0, duration=6.0)

    @classmethod
    def quick_mode(cls, repeat: int | None = None) -> Settings:
        return cls(
            quick=True, repeat=repeat or 1, warmup=0.5, duration=2.0, latency_seconds=3.0,
            backlog=5_000, backlog_repeat=1, pending=10_000, pending_repeat=1,
        )  # fmt: skip


@dataclass
class Run:
    """One run of a scenario: figures by key, and remarks worth printing."""

    figures: dict[str, float]
    notes: list[str] = field(default_factory=list)
