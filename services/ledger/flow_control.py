"""Whether the ledger's NATS user may answer JetStream's flow control (publish to `$JS.FC.>`): checked at start, and
watched while the ledger runs.

The writer's push consumer sends a window of messages (a few MB) and then waits for an answer on `$JS.FC.…`; an
answer the server refuses leaves it waiting for good, the ledger's lag growing while it serves reads as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.aio.client import Client as NATS
from prometheus_client import CollectorRegistry, Gauge

from services.ledger.inbox import flow_control_probe
from shared.bus import BusUnavailable, close, may_publish, refusing_flow_control
from shared.settings import Settings

log = logging.getLogger(__name__)

GRANT = ("grant it as `cadre-ledger nats-config` writes the permissions (deploy/nats/nats.conf, "
         "deploy/k8s/nats-values.yaml)")


async def answers_flow_control(nc: NATS, settings: Settings) -> None:
    """SystemExit unless the ledger's NATS user may answer JetStream's flow control (publish to `$JS.FC.>`).

    Without it the writer's consumer pushes one window (a few MB) and then waits for good for an answer the server
    refuses to pass on: the ledger stays ready while the lag grows. Refused at start, a rollout stops at its first
    replica, with the permission named, while the replicas before it keep writing. Falling back to a consumer
    without flow control would run, but brings back what flow control ended (a backlog of large messages cutting
    the writer off as a slow consumer, its memory past a gigabyte), unseen until a backlog comes.
    """
    if not await may_publish(nc, flow_control_probe(settings.stream, settings.consumer), settings.nats_timeout_s):
        await close(nc)
        raise SystemExit("the ledger's NATS user may not publish to $JS.FC.>, the subjects that answer JetStream's "
                         f"flow control: its writer would stall after the first few megabytes; {GRANT} (台账的 NATS "
                         "用户缺少 $JS.FC.> 的发布权限，写入者会停滞)")


class FlowControlWatch:
    """The permission withdrawn while the ledger runs (a NATS configuration reloaded without it), which the check at
    start cannot see: the server refuses the writer's answers, and the connection notes it (`shared.bus`, which logs
    every refusal naming the permission). From then on this replica is not ready and `ledger_flow_control_refused`
    is 1, until a probe publication passes again (asked every `interval` seconds while refused, never otherwise), when
    the consumer's next heartbeat has the writer answer again and it resumes by itself. Not ready, as a replica
    started now would not run at all (`answers_flow_control`): no request fails while the writer stalls, so no error
    rate shows it, only the lag, and a log line every 5 s is easily missed.

    Only a writer answers flow control, so a standby replica stays ready (it serves reads, which need no NATS
    permission of this kind); it meets the refusal once it is elected and its consumer fills a window.
    """

    def __init__(self, nc: NATS, settings: Settings, interval: float = 2.0) -> None:
        self.nc = nc
        self.probe = flow_control_probe(settings.stream, settings.consumer)
        self.timeout = settings.nats_timeout_s
        self.interval = interval
        self.refused = False

    def register(self, registry: CollectorRegistry) -> None:
        """The gauge on `registry`."""
        Gauge("ledger_flow_control_refused", "1 while NATS refuses the writer's answers to JetStream flow control "
              "($JS.FC.>, a permission withdrawn): its consumer is stalled", registry=registry).set_function(
            lambda: int(self.refused))

    async def readiness(self) -> str | None:
        """Readiness: a reason naming the permission while it is refused."""
        if self.refused:
            return f"NATS refuses the ledger's answers to JetStream flow control ($JS.FC.>), its writer is stalled: " \
                   f"{GRANT} (NATS 权限缺少 $JS.FC.>，写入者停滞)"
        return None

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the connection's refusals until `stop`."""
        while not stop.is_set():
            try:
                self.refused = await refusing_flow_control(self.nc, self.probe, self.timeout)
            except BusUnavailable as exc:  # NATS down: readiness says so on its own (`nats_check`)
                log.warning("cannot ask NATS whether flow control may be answered: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)
