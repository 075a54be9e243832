"""Hookwire benchmarks: real processes on loopback, figures against same-run ceilings.

    python bench/run.py                  # full run (make bench), ~15 minutes
    python bench/run.py --quick          # everything small, one run each (make bench-quick)
    python bench/run.py --only e2e,latency --repeat 5

Prints a table with PASS/MISS per target and writes bench/results/latest.json. Exits
non-zero when any scenario's correctness check failed (FAIL) or timed out; a MISS is a
result, not a failure.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent / "src")]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import datetime  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402

import cpu  # noqa: E402
import processes  # noqa: E402
import report  # noqa: E402
import scenarios as sc  # noqa: E402
import scenarios_queue as sq  # noqa: E402
import uvloop  # noqa: E402
from clients import CheckFailed  # noqa: E402
from settings import Run, Settings  # noqa: E402

RESULTS = BENCH / "results"
Part = Callable[[Settings, Path], Awaitable[Run]]


@dataclass(frozen=True)
class Scenario:
    parts: list[tuple[Part, bool]]  # (coroutine function, run on uvloop)
    timeout: Callable[[Settings], float]  # seconds one run may take
    runs: Callable[[Settings], int] = lambda s: s.repeat
    heavy: bool = False  # stop repeating once Settings.heavy_budget is spent


SCENARIOS: dict[str, Scenario] = {
    "ceilings": Scenario(
        [(sc.grpc_ceiling, False), (sc.post_ceiling, True)],
        lambda s: 2 * (s.warmup + s.duration) + 120,
    ),
    "publish_unary": Scenario([(sc.publish_unary, False)], lambda s: s.warmup + s.duration + 90),
    "publish_batch": Scenario([(sc.publish_batch, False)], lambda s: s.warmup + s.duration + 90),
    "e2e": Scenario([(sc.e2e, False)], lambda s: s.warmup + s.duration + 180),
    "latency": Scenario([(sc.latency, False)], lambda s: s.latency_seconds + 150),
    "fanout": Scenario([(sq.fanout, False)], lambda s: 180),
    "slow_endpoint": Scenario(
        [(sq.slow_endpoint, False)], lambda s: 2 * (s.warmup + s.duration) + 300
    ),
    "backlog": Scenario(
        [(sq.backlog, False)], lambda s: 180 + s.backlog / 200, lambda s: s.backlog_repeat, True
    ),
    "pending_rss": Scenario(
        [(sq.pending_rss, False)],
        lambda s: 120 + s.pending / 3000,
        lambda s: s.pending_repeat,
        True,
    ),
}


def run_bounded(part: Part, settings: Settings, work: Path, timeout: float, fast: bool) -> Run:
    async def bounded() -> Run:
        try:
            async with asyncio.timeout(timeout):
                return await part(settings, work)
        except TimeoutError as exc:
            raise TimeoutError(str(exc) or f"run exceeded its {timeout:.0f}s limit") from None

    return uvloop.run(bounded()) if fast else asyncio.run(bounded())


def keep_logs(work: Path, name: str) -> Path:
    """Copy a failed run's process logs under bench/results/logs/ (the database is dropped)."""
    target = RESULTS / "logs" / work.name
    target.mkdir(parents=True, exist_ok=True)
    for log in work.glob("*.log"):
        shutil.copy(log, target / log.name)
    return target


def run_once(
    name: str, index: int, outcome: report.Outcome, settings: Settings, root: Path
) -> None:
    """One run of one scenario on fresh processes; figures or a problem go into `outcome`."""
    scenario = SCENARIOS[name]
    work = Path(tempfile.mkdtemp(prefix=f"{name}-{index + 1}-", dir=root))
    figures: dict[str, float] = {}
    tick = time.monotonic()
    try:
        for part, fast in scenario.parts:
            run = run_bounded(part, settings, work, scenario.timeout(settings), fast)
            figures.update(run.figures)
            outcome.notes.extend(f"run {index + 1}: {note}" for note in run.notes)
        outcome.runs.append(figures)
    except CheckFailed as exc:
        outcome.problems.append(f"run {index + 1}: {exc}")
    except TimeoutError as exc:
        outcome.problems.append(f"run {index + 1}: timed out: {exc}")
    except Exception as exc:
        outcome.problems.append(f"run {index + 1}: {exc.__class__.__name__}: {exc}")
    finally:
        processes.kill_all()
        if outcome.problems:
            outcome.problems.append(f"logs kept in {keep_logs(work, name)}")
        shutil.rmtree(work, ignore_errors=True)
    shown = ", ".join(f"{k}={v:,.3f}" for k, v in figures.items()) or "FAIL"
    print(f"  {name} run {index + 1}/{outcome.planned}: {shown} "
          f"({time.monotonic() - tick:.1f}s)", flush=True)  # fmt: skip


def run_all(names: list[str], settings: Settings, root: Path) -> dict[str, report.Outcome]:
    """Light scenarios round by round (run i of each, then run i+1), so that a ratio's two
    sides are measured minutes apart at most; then the heavy ones, within their budget."""
    outcomes = {name: report.Outcome(name, SCENARIOS[name].runs(settings)) for name in names}
    for outcome in outcomes.values():
        if outcome.planned < settings.repeat:
            outcome.notes.append(
                f"{outcome.planned} run(s) planned instead of {settings.repeat}: "
                "each takes about a minute or more"
            )
    light = [name for name in names if not SCENARIOS[name].heavy]
    rounds = max((outcomes[name].planned for name in light), default=0)
    for index in range(rounds):
        for name in light:
            if index < outcomes[name].planned and outcomes[name].ok:
                run_once(name, index, outcomes[name], settings, root)
    for name in names:
        if not SCENARIOS[name].heavy:
            continue
        outcome, started = outcomes[name], time.monotonic()
        for index in range(outcome.planned):
            spent = time.monotonic() - started
            if index and spent > settings.heavy_budget:
                outcome.notes.append(
                    f"{index} of {outcome.planned} runs: the previous ones took {spent:.0f}s "
                    f"(budget {settings.heavy_budget:.0f}s)"
                )
                break
            if outcome.ok:
                run_once(name, index, outcome, settings, root)
    return outcomes


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--only", default="", help=f"comma-separated: {','.join(SCENARIOS)}")
    parser.add_argument("--repeat", type=int, default=None, help="runs per scenario")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    return parser.parse_args(argv)


def selected(only: str) -> list[str]:
    names = [n.strip() for n in only.split(",") if n.strip()] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")
    if {"e2e", "publish_unary"} & set(names) and "ceilings" not in names:
        print("(adding ceilings: the ratios are measured against them)")
        names.append("ceilings")
    return [n for n in SCENARIOS if n in names]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    settings = Settings.quick_mode(args.repeat) if args.quick else Settings.full(args.repeat)
    if args.repeat:
        settings = replace(settings, backlog_repeat=args.repeat, pending_repeat=args.repeat)
    names = selected(args.only)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that finally blocks run
    mode = "quick" if settings.quick else "full"
    print(f"hookwire bench ({mode}): {', '.join(names)}", flush=True)
    started, stamp = time.monotonic(), datetime.datetime.now(datetime.UTC).isoformat()
    steal, source, commit = cpu.steal_ticks(), report.source_digest(BENCH.parent), report.commit()
    root = Path(tempfile.mkdtemp(prefix="hookwire-bench-"))
    try:
        outcomes = run_all(names, settings, root)
    finally:
        processes.kill_all()
        shutil.rmtree(root, ignore_errors=True)
    rows = report.summarise(outcomes)
    print()
    print(report.table(rows, outcomes))
    steal_end = cpu.steal_ticks()
    machine = report.machine()
    machine["commit"] = commit
    machine["source_digest"] = source
    if report.source_digest(BENCH.parent) != source or report.commit() != commit:
        machine["source_changed_during_run"] = True
        print("WARNING: src/ changed while the bench ran; figures mix versions of the code")
    machine["steal_percent"] = round(
        100 * (steal_end[0] - steal[0]) / max(steal_end[1] - steal[1], 1), 2
    )
    extra = {
        "mode": mode,
        "started": stamp,
        "seconds": round(time.monotonic() - started, 1),
        "settings": settings.__dict__,
        "machine": machine,
    }
    report.write_json(args.output, rows, outcomes, extra)
    print(f"\n{report.describe(machine)}")
    print(f"wrote {args.output} ({extra['seconds']:.0f}s)")
    return 0 if all(o.ok for o in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
