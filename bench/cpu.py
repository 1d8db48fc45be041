"""CPU time the server spends, read from /proc: steadier than rates on a shared machine.

The gunicorn workers are the children of the master this process started; on PostgreSQL the
backends serving the bench's own database count too (their titles name it)."""

import os
from pathlib import Path

TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, utime + stime in ticks), or None for a process gone meanwhile."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "(comm)": state is field 3
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def server_processes(database: str | None = None) -> dict[int, str]:
    """pid → "app" for the gunicorn master started by this process and its workers, → "db"
    for the PostgreSQL backends connected to `database`."""
    pids = _pids()
    parents = {pid: stat[0] for pid in pids if (stat := _stat(pid))}
    masters = {
        pid for pid, ppid in parents.items() if ppid == os.getpid() and "gunicorn" in _cmdline(pid)
    }
    found = dict.fromkeys(masters | {p for p, ppid in parents.items() if ppid in masters}, "app")
    if database:
        for pid in pids:
            title = _cmdline(pid)
            if title.startswith("postgres: ") and f" {database} " in title:
                found[pid] = "db"
    return found


class CpuMeter:
    """CPU seconds used by the server between start() and stop(); new processes count from
    zero (a PostgreSQL backend opened meanwhile), vanished ones are lost (rare)."""

    def __init__(self, database: str | None = None):
        self.database = database
        self.app_s = self.db_s = 0.0

    @property
    def seconds(self) -> float:
        return self.app_s + self.db_s

    def _ticks(self) -> dict[int, tuple[str, int]]:
        return {
            pid: (kind, s[1])
            for pid, kind in server_processes(self.database).items()
            if (s := _stat(pid))
        }

    def __enter__(self):
        self._start = self._ticks()
        return self

    def __exit__(self, *_exc):
        used = {"app": 0, "db": 0}
        for pid, (kind, ticks) in self._ticks().items():
            used[kind] += ticks - self._start.get(pid, (kind, 0))[1]
        self.app_s, self.db_s = used["app"] * TICK_S, used["db"] * TICK_S
