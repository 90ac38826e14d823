"""Exactly-once under crashes: the ledger killed mid-ingest, or between commit and ack."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from services.ledger.background import lower_priority
from services.ledger.refusals import UNSTORABLE_RUN
from shared.settings import Settings
from tests.exactly_once_support import assert_exactly_once
from tests.support import System, audit_event, call, committed_seq, fetch, publish, wait_committed, wait_until


@pytest.fixture
def own_system(tmp_path: Path) -> Iterator[System]:
    """A private system: these tests kill its ledger."""
    sys_ = System(tmp_path, services=("ledger",)).start()
    yield sys_
    sys_.stop()


@pytest.mark.parametrize(("events", "kills"), [(10_000, 3), (50_000, 20)])
async def test_kill_9_during_ingest(own_system: System, events: int, kills: int) -> None:
    """Issue 2: a kill in the middle of 10,000 events; issue 7: 20 kills at random points of 50,000."""
    rng = random.Random(events)
    published = [audit_event(f"K{rng.randrange(300):03d}", n) for n in range(events)]
    publishing = asyncio.create_task(publish(own_system.nats_url, published, chunk=2000))
    for _ in range(kills):  # kill -9 at random points while events stream in, restart each time
        await asyncio.sleep(rng.uniform(0.05, 0.6))
        own_system.procs["ledger"].kill()
        await asyncio.to_thread(own_system.start_service, "ledger")
    seqs = await publishing
    await wait_committed(own_system.pg_dsn, max(seqs), timeout=240)
    await assert_exactly_once(own_system, {str(e.id) for e in published})


async def test_redelivery_after_a_crash_between_commit_and_ack_is_a_no_op(own_system: System) -> None:
    own_system.procs["ledger"].stop()
    own_system.extra_env["CADRE_FAULT_EXIT_AFTER_COMMITS"] = "1"
    ledger = await asyncio.to_thread(own_system.start_service, "ledger")
    events = [audit_event("CRASH", n) for n in range(50)]
    await publish(own_system.nats_url, events)
    await asyncio.to_thread(ledger.proc.wait, 30)
    assert ledger.proc.returncode == 137, "the writer died right after its first commit, before acking"
    committed = await fetch(own_system.pg_dsn, "SELECT count(*) AS n FROM ledger_events")
    assert committed[0]["n"] >= 1

    del own_system.extra_env["CADRE_FAULT_EXIT_AFTER_COMMITS"]
    await asyncio.to_thread(own_system.start_service, "ledger")  # JetStream redelivers the unacked batch
    await wait_committed(own_system.pg_dsn, 50, timeout=60)
    await assert_exactly_once(own_system, {str(e.id) for e in events})


def background_pids(ledger_pid: int) -> list[int]:
    """Background processes started by the ledger `ledger_pid` (its pid is their argument), even orphaned ones."""
    wanted = f"services.ledger.background\0{ledger_pid}\0".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.joinpath("cmdline").read_bytes().endswith(wanted) and alive(int(entry.name)):
                    pids.append(int(entry.name))
            except OSError:
                continue  # gone meanwhile
    return pids


async def _none_left(ledger_pid: int) -> bool:
    """No background process of the ledger `ledger_pid` runs (a predicate for wait_until)."""
    return not background_pids(ledger_pid)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_the_background_process_runs_below_the_ledgers_cpu_priority(system: System) -> None:
    ledger = system.procs["ledger"].proc.pid
    [child] = await wait_until(lambda: asyncio.sleep(0, background_pids(ledger) or None))
    lower = Settings.model_fields["background_nice"].default
    assert lower > 0, "by default the read models and the access-trail filer yield the cores to the ledger"
    assert os.getpriority(os.PRIO_PROCESS, child) == min(os.getpriority(os.PRIO_PROCESS, ledger) + lower, 19)


def test_a_refused_priority_change_is_logged_and_the_background_process_goes_on(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def refused(by: int) -> int:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "nice", refused)
    lower_priority(10)
    assert "keeps the ledger's CPU priority" in caplog.text and "Operation not permitted" in caplog.text


async def test_the_background_process_is_restarted_and_never_outlives_the_ledger(own_system: System) -> None:
    ledger = own_system.procs["ledger"].proc
    [first] = await wait_until(lambda: asyncio.sleep(0, background_pids(ledger.pid) or None))
    os.kill(first, signal.SIGKILL)
    [second] = await wait_until(lambda: asyncio.sleep(0, [p for p in background_pids(ledger.pid) if p != first]
                                                      or None), timeout=20)
    seqs = await publish(own_system.nats_url, [audit_event("PROJECTED")])
    await wait_committed(own_system.pg_dsn, seqs[0])

    async def projected() -> list[object] | None:
        return list(await fetch(own_system.pg_dsn, "SELECT 1 FROM rm_cadres WHERE cadre_id = 'PROJECTED'")) or None

    assert await wait_until(projected, timeout=20), "the restarted child keeps the read models up"
    await call("GET", f"{own_system.url('ledger')}/v1/cadres/PROJECTED/history?purpose=after-restart")

    async def filed() -> list[object] | None:
        return list(await fetch(own_system.pg_dsn, "SELECT 1 FROM access_trail WHERE purpose = 'after-restart'")) \
            or None

    assert await wait_until(filed, timeout=20), "and files the access trail"
    own_system.procs["ledger"].kill()
    assert await wait_until(lambda: asyncio.sleep(0, not alive(second) or None), timeout=10), \
        "a background process whose ledger is gone stops by itself"
    for _ in range(3):  # killed at once: the child may start after its ledger is gone
        quick = await asyncio.to_thread(own_system.start_service, "ledger")
        quick.kill()
        await asyncio.sleep(2.0)
        assert await wait_until(partial(_none_left, quick.proc.pid), timeout=10)


async def refuse_poison(system: System) -> None:
    """A trigger refusing every row of a cadre whose id starts with POISON, as PostgreSQL refuses a value it cannot
    store. It stands for any refusal the checks before the database do not foresee (a NUL in a header and a
    subject that is not UTF-8 were two; each stopped the writer for good, retrying the batch that held it)."""
    await fetch(system.pg_dsn, """
        CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
          IF NEW.cadre_id LIKE 'POISON%' THEN RAISE EXCEPTION 'refused by the test' USING ERRCODE = '22023'; END IF;
          RETURN NEW;
        END $$""")
    await fetch(system.pg_dsn, "CREATE TRIGGER refuse_poison BEFORE INSERT ON ledger_events FOR EACH ROW "
                               "EXECUTE FUNCTION refuse_poison()")


async def test_a_message_the_database_refuses_is_quarantined_as_unstorable_and_the_rest_appended(
        own_system: System) -> None:
    await refuse_poison(own_system)
    good, poison = [audit_event("GOOD", n) for n in range(1, 41)], audit_event("POISON1")
    seqs = await publish(own_system.nats_url, [*good[:20], poison, *good[20:]])
    await wait_committed(own_system.pg_dsn, max(seqs))

    await assert_exactly_once(own_system, {str(e.id) for e in good})
    [q] = await fetch(own_system.pg_dsn, "SELECT stream_seq, reason, detail, raw FROM quarantine")
    assert (q["stream_seq"], q["reason"], bytes(q["raw"])) == (seqs[20], "unstorable", poison.canonical())
    assert "refused by the test" in q["detail"] and "数据库拒绝存储" in q["detail"]

    [later] = await publish(own_system.nats_url, [audit_event("GOOD", 41)])
    await wait_committed(own_system.pg_dsn, later)
    status, page, _ = await call("GET", f"{own_system.url('ledger')}/v1/quarantine?limit=10")
    assert status == 200 and [e["reason"] for e in page["entries"]] == ["unstorable"]


async def test_refusals_in_a_row_stop_the_writer_instead_of_quarantining_everything(own_system: System) -> None:
    """Refused message after message, with nothing appended between, is not the messages' doing (a column
    narrowed, a codec broken): after UNSTORABLE_RUN the writer stops and retries, and once the cause is gone it
    appends what it held back."""
    await refuse_poison(own_system)
    poison = [audit_event(f"POISON{n}") for n in range(UNSTORABLE_RUN + 3)]
    good = audit_event("GOOD")
    seqs = await publish(own_system.nats_url, [*poison, good])

    async def quarantined() -> int:
        [row] = await fetch(own_system.pg_dsn, "SELECT count(*) AS n FROM quarantine WHERE reason = 'unstorable'")
        return int(row["n"])

    await wait_until(lambda: _at_least(quarantined, UNSTORABLE_RUN))
    await asyncio.sleep(3)
    assert await quarantined() == UNSTORABLE_RUN, "no more than UNSTORABLE_RUN quarantined in a row"
    assert await committed_seq(own_system.pg_dsn) == seqs[UNSTORABLE_RUN - 1], "the writer holds the rest back"

    await fetch(own_system.pg_dsn, "DROP TRIGGER refuse_poison ON ledger_events")
    await wait_committed(own_system.pg_dsn, max(seqs))
    await assert_exactly_once(own_system, {str(e.id) for e in [*poison[UNSTORABLE_RUN:], good]})


async def _at_least(count: Callable[[], Awaitable[int]], n: int) -> bool:
    return await count() >= n


async def test_a_refused_signed_checkpoint_does_not_cost_its_message(own_system: System) -> None:
    """When the database refuses a batch of one message that carries a signed checkpoint, the checkpoint may be what
    it refused: the message is read again without one and appended, not quarantined, and the next batch signs."""
    own_system.procs["ledger"].kill()
    # every batch carries a checkpoint, and batches of 7 make one of them the checkpoint of size 21
    own_system.extra_env.update({"CADRE_CHECKPOINT_EVERY_N": "1", "CADRE_BATCH_SIZE": "7",
                                 "CADRE_BACKLOG_BATCH_SIZE": "7"})
    await fetch(own_system.pg_dsn, """
        CREATE FUNCTION refuse_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
          IF NEW.size = 21 THEN RAISE EXCEPTION 'checkpoint refused by the test' USING ERRCODE = '22023'; END IF;
          RETURN NEW;
        END $$""")
    await fetch(own_system.pg_dsn, "CREATE TRIGGER refuse_checkpoint BEFORE INSERT ON checkpoints FOR EACH ROW "
                                   "EXECUTE FUNCTION refuse_checkpoint()")
    events = [audit_event("SIGNED", n) for n in range(1, 41)]
    seqs = await publish(own_system.nats_url, events)
    await asyncio.to_thread(own_system.start_service, "ledger")
    await wait_committed(own_system.pg_dsn, max(seqs))

    await assert_exactly_once(own_system, {str(e.id) for e in events})
    assert await fetch(own_system.pg_dsn, "SELECT 1 FROM quarantine") == [], "nothing quarantined"
    sizes = [r["size"] for r in await fetch(own_system.pg_dsn, "SELECT size FROM checkpoints ORDER BY id")]
    # the refused batch was read again a message at a time, each signed, but 21's message without its checkpoint
    assert 21 not in sizes and {7, 14, 15, 20} <= set(sizes), sizes

    async def signed_to_the_end() -> bool | None:
        [row] = await fetch(own_system.pg_dsn, "SELECT max(size) AS size FROM checkpoints")
        return row["size"] == len(events) or None

    assert await wait_until(signed_to_the_end), "the log is signed up to its end"
