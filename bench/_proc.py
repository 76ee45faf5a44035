"""CPU and memory of the processes a benchmark runs, read from /proc; import-only (`make bench`
skips bench/_*.py). On a shared, noisy machine the CPU seconds each process spent say more
about where the work is than the wall time does."""

from __future__ import annotations

import contextlib
import os
import resource
from pathlib import Path


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def own_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s(pid: int, *, reaped: bool = False) -> float:
    """User plus system CPU seconds of a process; with `reaped`, of its ended children too."""
    return _cpu(_stat(pid), reaped=reaped)


def _cpu(fields: list[str], *, reaped: bool = False) -> float:
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def server_cpu_s(datadir: Path) -> float:
    """CPU seconds of a PostgreSQL server: the postmaster, its ended children, and the live
    backends and workers (its children)."""
    postmaster = int((datadir / "postmaster.pid").read_text().split()[0])
    # From the stat already read: a backend may end between the listing and a second read.
    live = sum(_cpu(fields) for _, fields in _processes() if int(fields[1]) == postmaster)
    return cpu_s(postmaster, reaped=True) + live


def _processes() -> list[tuple[int, list[str]]]:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):  # a process may end while we look
            found.append((int(entry.name), _stat(int(entry.name))))
    return found


def _stat(pid: int) -> list[str]:
    # Fields after the command name: state, ppid, ..., utime (11), stime, cutime, cstime.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


class CpuMeter:
    """CPU seconds of named processes, a PostgreSQL server (`datadir`) and this process, so a
    benchmark can print what each spent per call between two readings."""

    def __init__(self, pids: dict[str, int], datadir: Path | None = None) -> None:
        self.pids, self.datadir = pids, datadir

    def read(self) -> dict[str, float]:
        found = {name: cpu_s(pid) for name, pid in self.pids.items()}
        if self.datadir is not None:
            found["postgresql"] = server_cpu_s(self.datadir)
        found["load generator"] = own_cpu_s()
        return found

    @staticmethod
    def per_call(before: dict[str, float], after: dict[str, float], calls: int) -> str:
        """'gateway 0.41 ms, ops 0.62 ms, ... (system 1.9 ms)': CPU ms per call, the load
        generator shown but left out of the system's total."""
        spent = {name: (after[name] - before[name]) * 1000 / calls for name in before}
        system = sum(ms for name, ms in spent.items() if name != "load generator")
        parts = ", ".join(f"{name} {ms:.2f} ms" for name, ms in spent.items())
        return f"{parts} (system {system:.2f} ms of CPU per call)"
