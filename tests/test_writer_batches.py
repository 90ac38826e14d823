"""How the writer cuts batches from what JetStream pushed: small while it keeps up, large for a backlog."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from prometheus_client import CollectorRegistry

from services.ledger.inbox import Inbox
from services.ledger.monitor import batch_metrics
from services.ledger.writer import BatchTiming

UNCONNECTED = Client()  # the messages' client: the inbox only reads them, never acks (the writer does)


async def _inbox_with(count: int) -> Inbox:
    inbox = Inbox()
    for seq in range(1, count + 1):
        await inbox.on_msg(Msg(_client=UNCONNECTED, subject="cadre.431021.C1",
                               reply=f"$JS.ACK.CADRE.ledger.1.{seq}.{seq}.0.0", data=b"{}"))
    return inbox


@pytest.mark.parametrize(("waiting", "sizes"), [
    (10, [10]),  # keeping up: whatever has arrived
    (2500, [1000, 1000, 500]),  # more than a batch but no backlog: latency-sized batches
    (7000, [3000, 3000, 1000]),  # a backlog: large batches until what is left is no longer one
])
async def test_batches_are_latency_sized_unless_a_backlog_waits(waiting: int, sizes: list[int]) -> None:
    inbox = await _inbox_with(waiting)
    taken = [len(await inbox.take(1000, 3000, 0.01)) for _ in sizes]
    assert taken == sizes and await inbox.take(1000, 3000, 0.01) == []


async def test_status_messages_without_an_ack_subject_are_not_batched() -> None:
    inbox = Inbox()
    await inbox.on_msg(Msg(_client=UNCONNECTED, subject="_INBOX.x", reply="", data=b""))
    assert await asyncio.wait_for(inbox.take(1000, 3000, 0.01), 1) == []


def _status(description: str, reply: str = "", **headers: str) -> Msg:
    return Msg(_client=UNCONNECTED, subject="_INBOX.x", reply=reply, data=b"",
               headers={"Status": "100", "Description": description, **headers})


async def test_flow_control_is_answered_once_the_messages_before_it_are_taken() -> None:
    """JetStream pushes no more than a window of bytes until its flow control request is answered: answered when
    a batch has taken what came before it, what waits in the inbox stays within the window."""
    answered: list[str] = []

    async def answer(subject: str) -> None:
        answered.append(subject)

    inbox = Inbox(answer)
    for seq in range(1, 6):
        await inbox.on_msg(Msg(_client=UNCONNECTED, subject="cadre.431021.C1",
                               reply=f"$JS.ACK.CADRE.ledger.1.{seq}.{seq}.0.0", data=b"{}"))
    await inbox.on_msg(_status("FlowControl Request", reply="$JS.FC.CADRE.ledger.a1"))
    await inbox.on_msg(_status("Idle Heartbeat"))
    assert answered == [] and len(await inbox.take(3, 3, 0.01)) == 3
    assert answered == [], "two messages before the request still wait"
    assert len(await inbox.take(3, 3, 0.01)) == 2 and answered == ["$JS.FC.CADRE.ledger.a1"]
    await inbox.on_msg(_status("FlowControl Request", reply="$JS.FC.CADRE.ledger.a2"))
    assert answered[-1] == "$JS.FC.CADRE.ledger.a2", "nothing waits before it: answered at once"
    await inbox.on_msg(_status("Idle Heartbeat", **{"Nats-Consumer-Stalled": "$JS.FC.CADRE.ledger.a2"}))
    assert answered[-1:] == ["$JS.FC.CADRE.ledger.a2"] and len(answered) == 3, \
        "a heartbeat naming the request the consumer is stalled on is answered (the first answer was lost)"
    assert await inbox.take(3, 3, 0.01) == [], "status messages are never batched"


async def test_a_short_batch_lingers_until_its_oldest_message_has_waited() -> None:
    inbox = await _inbox_with(3)
    loop = asyncio.get_running_loop()
    began = loop.time()
    taken = await inbox.take(1000, 3000, 1.0, linger=0.05)
    assert len(taken) == 3 and loop.time() - began >= 0.04, "a trickle waits for company, up to the linger"
    assert 0.04 <= inbox.waited < 1.0, "the batch's wait (ledger_batch_wait_seconds) counts the linger"


async def test_a_batch_that_fills_while_lingering_is_taken_at_once() -> None:
    inbox = await _inbox_with(3)

    async def trickle() -> None:
        for seq in range(4, 11):
            await asyncio.sleep(0.001)
            await inbox.on_msg(Msg(_client=UNCONNECTED, subject="cadre.431021.C1",
                                   reply=f"$JS.ACK.CADRE.ledger.1.{seq}.{seq}.0.0", data=b"{}"))

    feeding = asyncio.create_task(trickle())
    taken = await asyncio.wait_for(inbox.take(10, 3000, 1.0, linger=5.0), 2)
    await feeding
    assert len(taken) == 10, "a full batch does not wait out the linger"


async def test_what_is_left_after_a_full_batch_does_not_linger_again() -> None:
    inbox = await _inbox_with(1005)
    assert len(await inbox.take(1000, 3000, 1.0, linger=0.0)) == 1000
    await asyncio.sleep(0.02)
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert len(await inbox.take(1000, 3000, 1.0, linger=5.0)) == 5 and loop.time() - began < 1.0
    assert 0.02 <= inbox.waited < 1.0, "the leftovers' wait counts from their batch's first arrival, not the take"


async def test_a_new_message_after_the_leftovers_are_taken_lingers_again() -> None:
    inbox = await _inbox_with(1005)
    await inbox.take(1000, 3000, 1.0)
    await inbox.take(1000, 3000, 1.0, linger=5.0)
    await inbox.on_msg(Msg(_client=UNCONNECTED, subject="cadre.431021.C1",
                           reply="$JS.ACK.CADRE.ledger.1.2000.2000.0.0", data=b"{}"))
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert len(await inbox.take(1000, 3000, 1.0, linger=0.05)) == 1 and loop.time() - began >= 0.04


def test_batch_metrics_show_each_part_of_a_batchs_time() -> None:
    registry = CollectorRegistry()
    observe = batch_metrics(registry)
    observe(BatchTiming(received=40, waited=0.012, planned=0.004, queued=0.002, committed=0.009))
    observe(BatchTiming(received=60, waited=0.010, planned=0.006, queued=0.0, committed=0.011))
    value = registry.get_sample_value
    assert value("ledger_batch_size_count") == 2 and value("ledger_batch_size_sum") == 100
    for name, total in [("wait", 0.022), ("plan", 0.010), ("queue", 0.002), ("commit", 0.020)]:
        assert value(f"ledger_batch_{name}_seconds_count") == 2
        assert value(f"ledger_batch_{name}_seconds_sum") == pytest.approx(total)
    assert value("ledger_batch_commit_seconds_bucket", {"le": "0.01"}) == 1, "one commit under 10 ms, one over"
