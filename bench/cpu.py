"""Where the CPU went: per-process CPU time from /proc, and the machine's steal time.

On two shared cores the split between broker, gateway, sink and publisher says more about
a figure than the figure alone; steal time says whether the VM was being starved.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # fields from `state` on


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                tree.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return tree


def _label(pid: int) -> str:
    if pid == os.getpid():
        return "harness"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return str(pid)
    names = [Path(arg.decode(errors="replace")).name for arg in argv]
    for word, label in (
        ("gateway", "gateway"), ("serve", "broker"), ("broker", "broker"),
        ("sink.py", "sink"), ("ceilings.py", "noop-server"),
    ):  # fmt: skip
        if word in names:
            return label
    return Path(argv[0].decode(errors="replace")).name


def cpu_seconds(roots: list[int]) -> dict[str, float]:
    """CPU seconds used so far by each process under `roots`, summed by label."""
    tree, seen, totals = _children(), set[int](), dict[str, float]()
    stack = list(roots)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        stack.extend(tree.get(pid, []))
        try:
            fields = _stat(pid)
        except OSError:
            continue
        label = _label(pid)
        totals[label] = totals.get(label, 0.0) + (int(fields[11]) + int(fields[12])) / TICK
    return totals


def _cpu_line() -> list[int]:
    return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def steal_ticks() -> tuple[int, int]:
    """(steal, total) jiffies of all CPUs since boot."""
    values = _cpu_line()
    return (values[7] if len(values) > 7 else 0), sum(values)


def busy_seconds() -> float:
    """CPU seconds the whole machine spent busy since boot (everything but idle and iowait)."""
    values = _cpu_line()
    return (sum(values[:8]) - values[3] - values[4]) / TICK


class CpuMeter:
    """CPU use of the processes under `roots` between construction and `summary()`."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots
        self.start = cpu_seconds(roots)
        self.busy = busy_seconds()
        self.started = time.monotonic()

    def summary(self) -> str:
        end, seconds = cpu_seconds(self.roots), time.monotonic() - self.started
        used = {label: total - self.start.get(label, 0.0) for label, total in end.items()}
        # Whatever else ran on the machine meanwhile (another test run skews every figure).
        used["other processes"] = max(busy_seconds() - self.busy - sum(used.values()), 0.0)
        parts = [
            f"{label} {100 * spent / seconds:.0f}%"
            for label, spent in sorted(used.items(), key=lambda item: -item[1])
        ]
        return "CPU (% of one core): " + ", ".join(parts)
