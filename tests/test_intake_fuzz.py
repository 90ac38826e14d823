"""Fuzz the ledger's intake: random bytes, headers and envelopes are each appended or quarantined."""

from __future__ import annotations

import random
import uuid
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ledger.domain import StreamMessage, classify, plan_batch
from shared.envelope import cadre_subject
from tests.support import System, audit_event, fetch, publish_raw, wait_committed

json_scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20)
                | st.floats(allow_nan=False))
json_values = st.recursive(
    json_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=12)


def mutated_envelope(draw_key: str, value: Any) -> bytes:
    """A valid envelope with one field replaced by an arbitrary JSON value."""
    obj = orjson.loads(audit_event("FZ1").canonical())
    if draw_key.startswith("data."):
        obj["data"][draw_key[5:]] = value
    else:
        obj[draw_key] = value
    return orjson.dumps(obj)


payloads = st.one_of(
    st.binary(max_size=300),
    json_values.map(orjson.dumps),
    st.tuples(st.sampled_from(["id", "type", "subject", "time", "county", "occurredon", "specversion", "data",
                               "dataschema", "source", "ruleset", "extra", "data.audit_id", "data.findings",
                               "data.evaluation", "data.unknown"]), json_values).map(lambda kv: mutated_envelope(*kv)),
    st.just(b"").map(lambda _: audit_event("FZ1").canonical()),
)
subjects = st.sampled_from(["cadre.431021.FZ1", "cadre.431021.FZ2", "cadre.430000.FZ1", "cadre.x.y"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(payloads, subjects, st.dictionaries(st.text(max_size=10), st.text(max_size=10),
                                                              max_size=3)), min_size=1, max_size=20))
def test_every_message_is_appended_or_quarantined(batch: list[tuple[bytes, str, dict[str, str]]]) -> None:
    messages = [StreamMessage(seq, subject, data, headers) for seq, (data, subject, headers) in enumerate(batch, 1)]
    plan = plan_batch(classify(messages), checkpoint_seq=0, next_position=1, heads={}, stored_ids={})
    appended = {e.stream_seq for e in plan.events}
    quarantined = {q.stream_seq for q in plan.quarantined}
    assert appended.isdisjoint(quarantined)
    assert appended | quarantined == {m.stream_seq for m in messages}, "nothing dropped"
    assert [e.position for e in plan.events] == list(range(1, len(plan.events) + 1))
    assert all(q.reason for q in plan.quarantined)


async def test_random_traffic_on_real_nats_is_never_lost(system: System) -> None:
    rng = random.Random(12380)
    cadre = f"FZ{uuid.uuid4().hex[:8]}"
    sent = []
    for n in range(200):
        choice = rng.random()
        if choice < 0.3:
            data = rng.randbytes(rng.randrange(0, 200))
        elif choice < 0.6:
            obj = orjson.loads(audit_event(cadre, n).canonical())
            key = rng.choice(list(obj))
            obj[key] = rng.choice([None, 7, "x", [], {}, "2024-13-45"])
            data = orjson.dumps(obj)
        else:
            data = audit_event(cadre, n).canonical()
        headers = {"Nats-Msg-Id": uuid.uuid4().hex} if rng.random() < 0.5 else None
        sent.append(await publish_raw(system.nats_url, cadre_subject("431021", cadre), data, headers))
    await wait_committed(system.pg_dsn, max(sent))
    rows = await fetch(system.pg_dsn, """
        SELECT stream_seq FROM ledger_events WHERE stream_seq = ANY($1::bigint[])
        UNION ALL SELECT stream_seq FROM quarantine WHERE stream_seq = ANY($1::bigint[])""", sent)
    assert sorted(r["stream_seq"] for r in rows) == sorted(sent), "each message appended or quarantined, once"
