"""The results table, the targets with PASS/MISS, and bench/results/latest.json.

A figure's value is the median of its runs (min and max shown). Ratios are computed run by
run (the i-th run of a scenario against the i-th run of the ceilings) and then summarised
the same way. MISS is a result; FAIL (a scenario whose check failed) is a harness failure.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGES = ("grpcio", "protobuf", "aiosqlite", "httpx", "httpx-aiohttp", "aiohttp", "uvloop")


@dataclass
class Outcome:
    """Everything one scenario produced over its runs."""

    name: str
    planned: int
    runs: list[dict[str, float]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# (figure, scenario producing it); ratios are derived below.
FIGURES = [
    ("grpc_noop_unary_cps", "ceilings"),
    ("raw_post_ceiling_rps", "ceilings"),
    ("publish_unary_eps", "publish_unary"),
    ("publish_ratio", "publish_unary"),
    ("publish_batch_eps", "publish_batch"),
    ("e2e_deliveries_per_s", "e2e"),
    ("e2e_ratio", "e2e"),
    ("latency_p50_ms", "latency"),
    ("latency_p99_ms", "latency"),
    ("fanout_1000_s", "fanout"),
    ("slow_endpoint_ratio", "slow_endpoint"),
    ("backlog_drain_per_s", "backlog"),
    ("broker_rss_mb_1m_pending", "pending_rss"),
]
RATIOS = {
    "publish_ratio": ("publish_unary_eps", "grpc_noop_unary_cps"),
    "e2e_ratio": ("e2e_deliveries_per_s", "raw_post_ceiling_rps"),
}


@dataclass(frozen=True)
class Target:
    figure: str
    at_least: bool
    bound: Callable[[dict[str, float]], float | None]
    label: str


def _fixed(value: float) -> Callable[[dict[str, float]], float | None]:
    return lambda medians: value


TARGETS = [
    Target("e2e_ratio", True, _fixed(0.30), ">= 0.30"),
    Target("publish_ratio", True, _fixed(0.60), ">= 0.60"),
    Target("publish_batch_eps", True, _fixed(50_000), ">= 50,000"),
    Target("latency_p50_ms", False, _fixed(5), "<= 5"),
    Target("latency_p99_ms", False, _fixed(25), "<= 25"),
    Target("fanout_1000_s", False, _fixed(1.0), "<= 1.0"),
    Target(
        "backlog_drain_per_s",
        True,
        lambda m: m["e2e_deliveries_per_s"] * 0.9 if "e2e_deliveries_per_s" in m else None,
        ">= 0.9 x e2e",
    ),
    Target("broker_rss_mb_1m_pending", False, _fixed(200), "<= 200"),
    Target("slow_endpoint_ratio", True, _fixed(0.9), ">= 0.9"),
]


def figure_values(outcomes: dict[str, Outcome]) -> dict[str, list[float]]:
    """Every figure's per-run values, ratios included (only from runs whose check passed)."""
    values: dict[str, list[float]] = {}
    for outcome in outcomes.values():
        if outcome.ok:
            for run in outcome.runs:
                for key, value in run.items():
                    values.setdefault(key, []).append(value)
    for ratio, (numerator, denominator) in RATIOS.items():
        tops, bottoms = values.get(numerator, []), values.get(denominator, [])
        if tops and bottoms:
            if len(tops) != len(bottoms):  # unequal runs: compare against the median ceiling
                bottoms = [statistics.median(bottoms)] * len(tops)
            values[ratio] = [t / b for t, b in zip(tops, bottoms, strict=True) if b > 0]
    return values


def summarise(outcomes: dict[str, Outcome]) -> dict[str, dict[str, Any]]:
    values = figure_values(outcomes)
    medians = {key: statistics.median(runs) for key, runs in values.items() if runs}
    targets = {t.figure: t for t in TARGETS}
    rows: dict[str, dict[str, Any]] = {}
    for key, scenario in FIGURES:
        outcome = outcomes.get(scenario)
        if outcome is None:
            continue
        row: dict[str, Any] = {"scenario": scenario, "runs": values.get(key, [])}
        if key in medians:
            row.update(median=medians[key], min=min(values[key]), max=max(values[key]))
        target = targets.get(key)
        verdict = ""
        if not outcome.ok:
            verdict = "FAIL"
        elif target is not None:
            bound = target.bound(medians)
            row["target"] = target.label
            if bound is None or key not in medians:
                verdict = "n/a"
            else:
                row["bound"] = bound
                hit = medians[key] >= bound if target.at_least else medians[key] <= bound
                verdict = "PASS" if hit else "MISS"
        row["verdict"] = verdict
        rows[key] = row
    return rows


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"


def table(rows: dict[str, dict[str, Any]], outcomes: dict[str, Outcome]) -> str:
    head = (
        f"{'figure':<26} {'median':>10} {'min':>10} {'max':>10} {'runs':>4}  {'target':<14} result"
    )
    lines = [head, "-" * len(head)]
    for key, row in rows.items():
        lines.append(
            f"{key:<26} {_number(row.get('median')):>10} {_number(row.get('min')):>10} "
            f"{_number(row.get('max')):>10} {len(row['runs']):>4}  "
            f"{row.get('target', ''):<14} {row['verdict']}"
        )
    lines.append("")
    for outcome in outcomes.values():
        done = f"{len(outcome.runs)}/{outcome.planned} runs"
        lines.append(f"{'ok  ' if outcome.ok else 'FAIL'} {outcome.name} ({done})")
        lines.extend(f"       FAIL: {problem}" for problem in outcome.problems)
        lines.extend(f"       {note}" for note in outcome.notes)
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the figures were measured on, so runs on different machines are not compared."""
    packages: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            packages[name] = None
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": packages,
    }


def commit() -> str:
    """HEAD, read-only (the working tree may differ: see source_digest)."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def source_digest(root: Path) -> str:
    """A hash of the code under test, to tell whether it changed while the bench ran."""
    digest = hashlib.sha256()
    for path in sorted((root / "src").rglob("*")):
        if path.suffix in (".py", ".sql") and "/v1/" not in path.as_posix():
            digest.update(path.as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def describe(machine: dict[str, Any]) -> str:
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    return (
        f"machine: {machine['cores']} cores ({machine['cpu']}), Python {machine['python']}, "
        f"{packages}; CPU steal during the run {machine['steal_percent']}%; "
        f"commit {machine['commit'][:12]}, src digest {machine['source_digest']}"
    )


def write_json(
    path: Path, rows: dict[str, dict[str, Any]], outcomes: dict[str, Outcome], extra: dict[str, Any]
) -> None:
    document: dict[str, Any] = {key: row.get("median") for key, row in rows.items()}
    document.update(
        figures=rows,
        checks={
            o.name: {
                "ok": o.ok,
                "runs": len(o.runs),
                "planned": o.planned,
                "problems": o.problems,
                "notes": o.notes,
            }
            for o in outcomes.values()
        },
        ok=all(o.ok for o in outcomes.values()),
        **extra,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
