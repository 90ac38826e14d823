"""Why a target was missed, from the run's own evidence (CPU split, profiles, statement times)."""

from __future__ import annotations

from bench.ingest import BatchTimes, Episodes
from bench.integrity import Replay
from bench.profile import Profile
from bench.report import MIXED_ROW, REPLAY, VERIFY, Results, Row, _n, machine
from bench.stack import HARNESS, OTHERS, PG_SETTINGS


def cpu_text(cpu: dict[str, float]) -> str:
    """Cores per component, busiest first."""
    return ", ".join(f"{name} {cores:.2f}" for name, cores in sorted(cpu.items(), key=lambda kv: -kv[1])) or "n/a"


def us_text(cpu_us: dict[str, float]) -> str:
    """CPU microseconds per event per component, busiest first."""
    return ", ".join(f"{name} {us:.0f}" for name, us in sorted(cpu_us.items(), key=lambda kv: -kv[1])
                     if us >= 0.5) or "n/a"


def episodes_line(e: Episodes) -> str:
    """How the slow commits of a latency step were spread over it."""
    return (f"- Over time: of the step's {e.windows} windows of {e.width * 1000:.0f} ms (by publish time), {e.slow} "
            f"held an event committed more than {e.limit:.0f} ms after its publishing, in {e.episodes} episodes, the "
            f"longest {e.longest * e.width:.2f} s: the tail comes from spells in which the ledger fell behind the "
            "publisher and then caught up, not from every batch.")


def _share(p: Profile | None, function: str) -> float:
    """Inclusive share of a function of ours (own share for others' functions), 0 when not sampled."""
    if p is None or p.error:
        return 0.0
    for name, share in (*p.inclusive, *p.own):
        if name.startswith(function + " "):
            return share
    return 0.0


def _replay_split(rp: Replay) -> str:
    """Where a replay's time went, read model by read model."""
    return f"- Of {rp.seconds:.1f} s, per read model, the time its applies took (they overlap): {rp.per_model()}."


def _evidence(r: Results, label: str) -> list[str]:
    """CPU per component and the top own-time functions of a profiled step."""
    out = []
    if label in r.cpu:
        out.append(f"- CPU while it ran (cores): {cpu_text(r.cpu[label])}.")
    p = r.profiles.get(label)
    if p and not p.error and p.own:
        out.append(f"- py-spy of {label}: Python on CPU {p.busy:.0%} of the sampled time; top own time: "
                   + "; ".join(f"`{n}` {s:.0%}" for n, s in p.own[:6]) + " (full table under Profile).")
    return out


def _ingest(r: Results) -> list[str]:
    drain = r.rest
    assert drain is not None
    cores = int(machine()["cores"])
    ledger_us = drain.cpu_us.get("ledger", 0.0)
    pg_us = drain.cpu_us.get("postgres", 0.0)
    total = sum(us for name, us in drain.cpu_us.items() if name != OTHERS)
    lines = [f"- CPU during the drain (cores, of {cores}): {cpu_text(drain.cpu)}. Per event (us): "
             f"{us_text(drain.cpu_us)}; {total:.0f} us in all for the benchmark's own processes, so even {cores} "
             f"fully used cores would allow about {cores * 1e6 / max(total, 1):,.0f} events/s."]
    if ledger_us:
        lines.append(f"- The writer is one Python thread: at {ledger_us:.0f} us of CPU per event it cannot pass "
                     f"{1e6 / ledger_us:,.0f} events/s, whatever the engines do. The target "
                     f"({_n(0.8 * r.engines.publish)} ev/s) needs at most {1e6 / (0.8 * r.engines.publish):.0f} us "
                     f"per event in the writer, and as little again in PostgreSQL ({pg_us:.0f} us now), on the same "
                     f"{cores} cores that run nats-server (and, live, the publisher).")
    p = drain.profile
    if p and not p.error and ledger_us:
        parts = [("validation (`parse_event`: JSON, pydantic envelope and data, canonical bytes)", "parse_event"),
                 ("planning (`plan_batch`: positions, leaf hashes, chains)", "plan_batch"),
                 ("the commit (`store.append`: COPY encoding, round trips)", "append"),
                 ("nats-py's protocol parser", "Parser.parse")]
        found = [(text, _share(p, fn)) for text, fn in parts if _share(p, fn)]
        lines.append("- Where the writer's CPU goes (py-spy, share of its samples x its CPU per event): " + "; ".join(
            f"{text} {share:.0%} = {share * ledger_us:.0f} us" for text, share in found) + ".")
    if drain.statements:
        lines.append("- Where PostgreSQL's time goes (pg_stat_statements): " + "; ".join(
            f"`{st.query[:40]}...` {st.share:.0%}" for st in drain.statements[:4]) + ".")
    if r.pure:
        lines.append(f"- Without any I/O the writer's pure path (validate, plan, Merkle nodes) costs "
                     f"{r.pure.us_per_event:.1f} us/event, a ceiling of {1e6 / r.pure.us_per_event:,.0f} events/s "
                     "on a core of its own before NATS, asyncpg and the read models take their share.")
    return lines


def pages_line(r: Results) -> str:
    """Where the timed history reads' page query found its pages, at each ledger size measured."""
    sizes = "; ".join(f"at {n:,} events {p.ms / p.calls:.2f} ms a query, {p.pages_per_call:.0f} pages an answer, "
                      f"{p.read_share:.0%} of them from outside shared_buffers"
                      for n, p in sorted(r.history_pages.items()))
    return f"- The page query of the timed history reads, in PostgreSQL (pg_stat_statements): {sizes}."


def batch_line(b: BatchTimes) -> str:
    """Where the writer's batches spent their time during the latency run (its `ledger_batch_*` histograms)."""
    ms = b.mean_ms
    return (f"- The writer committed {b.batches:,} batches of {b.mean_size:.0f} messages on average meanwhile; per "
            f"batch, on average (the ledger's `ledger_batch_*_seconds` histograms): its oldest message waited "
            f"{ms['waited']:.1f} ms in the writer's inbox (`CADRE_BATCH_LINGER_MS` included), planning took "
            f"{ms['planned']:.1f} ms, waiting for the batch before it to commit {ms['queued']:.1f} ms and its "
            f"transaction {ms['committed']:.1f} ms (which shares the writer's thread with planning the next batch). "
            "The rest of an event's latency: the acknowledged publish, JetStream's push to the writer, the commit "
            "notification.")


def why(r: Results, row: Row) -> list[str]:
    """The evidence behind a missed target, from this run's own measurements."""
    lines = [f"### {row.what}: {row.value}, target {row.target}, {row.verdict}", ""]
    if row.what.startswith("ingest") and r.rest:
        lines += _ingest(r)
    elif row.what.startswith("publish->committed") and r.latency:
        lat = r.latency
        lines.append(f"- At {_n(lat.rate)} ev/s: `committed_at - time` p50/p99 {_n(lat.committed_p50)} / "
                     f"{_n(lat.committed_p99)} ms (committed_at is the transaction's start); seen by a LISTENer on "
                     f"the commit notification {_n(lat.visible_p50)} / {_n(lat.visible_p99)} ms. CPU (cores): "
                     f"{cpu_text(lat.cpu)}. PostgreSQL checkpoints completed meanwhile: {lat.checkpoints} (each is "
                     "a burst of page writes, and first writes to every page after it carry a full-page image in "
                     "the WAL, so commits wait longer).")
        if lat.batches:
            lines.append(batch_line(lat.batches))
        if lat.episodes and lat.episodes.windows:
            lines.append(episodes_line(lat.episodes))
        if lat.pg_cpu:
            lines.append(f"- PostgreSQL's CPU by connection (`application_name`), cores: {cpu_text(lat.pg_cpu)}.")
        if lat.statements:
            lines.append("- Where PostgreSQL's time went meanwhile (pg_stat_statements, the writer's and the read "
                         "models' statements side by side): " + "; ".join(
                             f"`{st.query[:40]}...` {st.share:.0%}" for st in lat.statements[:4]) + ".")
        if r.live:
            lines.append(f"- Half the drain rate is {lat.rate / r.live.rate:.0%} of what the machine sustains with "
                         f"the publisher on it ({_n(r.live.rate)} ev/s live): the publisher (`bench.publisher`, "
                         f"{r.live.cpu_us.get(HARNESS, 0):.0f} us of CPU per event) competes "
                         "with the writer and PostgreSQL for the same 2 cores, so batches queue behind each other "
                         "and the tail grows.")
        if r.latency_live:
            half = r.latency_live
            lines.append(f"- At half the live rate ({_n(half.rate)} ev/s, half of what the machine sustains with the "
                         f"publisher on it) the same run gave p50/p99 {_n(half.visible_p50)} / "
                         f"{_n(half.visible_p99)} ms.")
    elif row.what.startswith(("history", "state")):
        read = r.history_large if row.what.startswith("history") else r.state_large
        if read:
            lines.append(f"- {read.requests} sequential requests, {read.events_per_response:.0f} events per answer, "
                         f"{_n(read.per_s)} answers/s from one client. An answer is: the token check (cached after "
                         "the first), an index scan of the cadre's rows (scattered over the heap among other "
                         "cadres'), built into one JSON array by PostgreSQL for a history, while the access-trail "
                         "record (an acknowledged JetStream publish, file storage) travels at the same time; the "
                         "state answer also validates and folds every event up to the date.")
        if r.ledger_bytes:
            sizes = "; ".join(f"{n:,} events: {heap / 2**30:.2f} GiB of rows, {idx / 2**30:.2f} GiB of indexes"
                              for n, (heap, idx) in sorted(r.ledger_bytes.items()))
            lines.append(f"- `ledger_events` after each drain ({sizes}), against {PG_SETTINGS['shared_buffers']} "
                         "of shared_buffers. An answer reads about 100 heap pages (the cadre's rows lie among other "
                         "cadres'); when rows and indexes exceed shared_buffers, some of those pages come from the "
                         "operating system's cache instead, each a system call and a buffer eviction.")
        lines += _evidence(r, "history reads (the ledger process)" if row.what.startswith("history")
                           else "state reads (the ledger process)")
        lines.append("- A ledger process that is busy well under 100% of the time is waiting: on PostgreSQL, on "
                     "JetStream's acknowledgement of the access record, and on the client in the same machine.")
    elif row.what.startswith(MIXED_ROW) and r.mixed:
        replayed = r.mixed.replay
        core_seconds = sum(r.mixed.cpu.values()) * replayed.seconds / max(replayed.events, 1) * 100_000
        lines.append(_replay_split(replayed))
        lines.append(f"- CPU while it ran (cores): {cpu_text(r.mixed.cpu)}. Apart from `audit.completed`, every "
                     "event reaches Python: its `data` is decoded from the canonical bytes, the read models fold it "
                     "(the rotation read model folds each touched cadre's postings) and build their statements, "
                     "and PostgreSQL applies them. Each read model has a connection of its own, so PostgreSQL "
                     "applies one while the next is prepared. What is left is the machine: the replay's Python "
                     "(one thread, which also decodes for every read model), PostgreSQL and anything else running took "
                     f"{core_seconds:.1f} core-seconds per 100,000 events, against the 2 that 100,000 events/s "
                     "would leave on 2 cores; and in the fifteenth round's timeline the shared read, each span "
                     "fetched and then decoded on that thread in turn, was the longest chain from first span to last.")
    elif row.what.startswith("replay") and r.replay:
        lines.append(_replay_split(r.replay))
        lines.append("- `rebuild.rebuild_all` rebuilds each read model in a transaction of its own, on a "
                     "connection of its own: each read model declares the event types it consumes, one read per "
                     "span, shared by all, fetches only those and decodes their `data` from the canonical bytes "
                     "(reading ahead on one more connection), and statements go set-based (one statement per "
                     "run of keys, its rows sent as one JSON array); `audit.completed` is applied straight "
                     "from `ledger_events` in SQL, so its rows never reach Python. What remains is PostgreSQL "
                     "reading each completion's `data` from the hashed bytes (the ledger keeps no jsonb copy; "
                     "`ledger_event_data` parses only the slice that holds `data`, about 2 us per event) and "
                     "writing the `rm_audits` rows and their two indexes (primary key on text "
                     "columns, county), about 6-8 us of its time per event measured alone.")
        lines += _evidence(r, REPLAY)
    elif row.what.startswith("verify") and r.verify:
        lines.append(f"- {r.verify.how}. Worker processes (one per core) each verify ranges of positions "
                     "aligned to Merkle subtrees over one exported snapshot: every row's canonical bytes and query "
                     "columns travel from PostgreSQL as rows, the stored nodes concatenated per level, and the "
                     "workers hash the bytes, read each envelope's repeated fields (msgspec, `data` skipped) and "
                     "compare them with the columns; the coordinator joins chains, tree and signed roots. On 2 "
                     "cores the target leaves about 6.7 us of CPU per event, PostgreSQL included. Measured on a "
                     "held 1,660,000-event stack (2026-12-02): 6.7-6.9 us of CPU per event in all, about 2.4 of "
                     "them PostgreSQL's (the rows 0.7, the nodes 0.6, sending them over loopback TCP), 4.1 the "
                     "workers' (receiving and decoding the rows 1.4, reading the fields 0.6, leaf hashes 0.6, "
                     "the tree 0.5, chains and comparisons 0.5) and 0.3 the coordinator's (checkpoint signatures, "
                     "the merge).")
        lines += _evidence(r, VERIFY)
    elif row.what.startswith("growth: history") and r.history_small and r.history_large:
        lines.append(f"- History p50/p99 {_n(r.history_small.p50)} / {_n(r.history_small.p99)} ms at {r.chunk:,} "
                     f"events, {_n(r.history_large.p50)} / {_n(r.history_large.p99)} ms at {r.events:,}; each read "
                     "is an index scan of one cadre's rows, whose depth grows with the log's logarithm, and about "
                     "100 heap pages scattered among other cadres' rows.")
        if r.ledger_bytes:
            lines.append("- What grows is the heap those pages come from (" + "; ".join(
                f"{n:,} events: {heap / 2**30:.2f} GiB of rows" for n, (heap, _) in sorted(r.ledger_bytes.items()))
                + f"; {PG_SETTINGS['shared_buffers']} of shared_buffers), and the access trail each read appends to; "
                "the tail of sequential requests from one client on 2 busy cores is also the least stable figure "
                "of a run.")
        if r.history_pages:
            lines.append(pages_line(r))
    elif row.what.startswith("growth") and r.first and r.rest:
        lines.append(f"- Ingest over the first chunk {_n(r.rate_small)} ev/s, over the last {_n(r.rate_large)} ev/s "
                     "(rates from the rows' commit stamps). Per-event CPU over the first chunk (us): "
                     f"{us_text(r.first.cpu_us)}; over the sustained drain: {us_text(r.rest.cpu_us)}.")
        lines.append("- What grows with the ledger: the B-tree indexes of `ledger_events` (six) and "
                     "`merkle_nodes`, and the heap a history read visits; nothing in the writer walks the ledger. "
                     "Of the indexes only the one on (cadre_id, cadre_version) takes its keys out of order (a "
                     "cadre's next event goes in among the other cadres' keys), so its inserts touch more pages "
                     "as it grows; the harness's event ids, like the services' (UUIDv7), grow in order.")
    return [*lines, ""]
