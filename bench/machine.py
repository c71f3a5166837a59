"""Is anything else using the CPUs? Benchmarks on a shared 2-core machine need to know.

Linux /proc only. `Meter` measures, over a span, the CPU time of the whole machine and of
the processes the benchmark owns (itself, the server it started, and on PostgreSQL runs the
`postgres` processes); the rest is "foreign" load, which makes the figures pessimistic.
"""

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1


def machine_busy_ticks() -> int:
    """Busy CPU time of the whole machine since boot (all CPUs), in clock ticks."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return user + nice + system + irq + softirq + steal


def process_ticks(pid: int) -> int:
    """utime + stime of one process (all its threads), in clock ticks; 0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@dataclass
class Meter:
    """Foreign CPU load over a span: machine busy time minus the benchmark's own processes.

    `own` returns the pids to count as the benchmark's own at each reading (a server's
    process tree changes; PostgreSQL forks a backend per connection).
    """

    own: Callable[[], Iterable[int]]
    _start: float = 0.0
    _busy: int = 0
    _mine: dict[int, int] | None = None

    def start(self) -> None:
        self._start = time.monotonic()
        self._busy = machine_busy_ticks()
        self._mine = {pid: process_ticks(pid) for pid in self._pids()}

    def foreign_cores(self) -> float:
        """Average number of CPUs other processes kept busy since `start`."""
        assert self._mine is not None, "start() first"
        wall = time.monotonic() - self._start
        busy = machine_busy_ticks() - self._busy
        mine = sum(process_ticks(pid) - self._mine.get(pid, 0) for pid in self._pids())
        return max(0.0, (busy - mine) / TICKS / wall) if wall > 0 else 0.0

    def _pids(self) -> set[int]:
        return {os.getpid(), *self.own()}


def wait_for_quiet(
    *,
    threshold: float = 0.25,
    patience: float = 300,
    sample: float = 3,
    say: Callable[[str], None],
) -> float:
    """Wait (up to `patience` s) until other processes use less than `threshold` CPUs.

    Returns the foreign load last seen, so the caller can report a noisy machine.
    """
    deadline = time.monotonic() + patience
    told = False
    while True:
        meter = Meter(lambda: ())
        meter.start()
        time.sleep(sample)
        load = meter.foreign_cores()
        if load < threshold or time.monotonic() >= deadline:
            return load
        if not told:
            say(
                f"other processes keep {load:.1f} of {CPUS} CPUs busy; "
                f"waiting up to {patience:.0f} s"
            )
            told = True
