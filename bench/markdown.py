"""BENCHMARKS.md from one run's results: figures, ratios to the engines, machine, and why targets were missed."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.pgstats import Statement
from bench.profile import Profile
from bench.report import FLAT, PROFILE, RECORD, Results, _n, machine, rows
from bench.rounds import OPTIMISATIONS
from bench.stack import OTHERS, PG_SETTINGS
from bench.why import batch_line, cpu_text, pages_line, us_text, why
from services.ledger.backlog import YieldPolicy
from shared.settings import Settings

_DEFAULTS = Settings.model_fields
_YIELD = YieldPolicy(_DEFAULTS["projection_yield_backlog"].default, _DEFAULTS["projection_backlog_share"].default)
"""What the ledger's read models do by default while the writer has a backlog (the bench sets neither)."""


def _profile(p: Profile | None, title: str) -> list[str]:
    if p is None:
        return [title, "", "Not recorded.", ""]
    if p.error:
        return [title, "", f"{p.error}.", ""]
    out = [title, "", f"{p.samples} on-CPU samples over {p.seconds:.0f} s at {p.rate} Hz: the process's Python "
           f"thread was on CPU {p.busy:.0%} of the time.", "", "| own time | function |", "|---:|---|"]
    out += [f"| {share:.1%} | `{name}` |" for name, share in p.own]
    out += ["", "| inclusive | function (ours) |", "|---:|---|"]
    out += [f"| {share:.1%} | `{name}` |" for name, share in p.inclusive]
    return [*out, ""]


def _statements(title: str, intro: str, statements: list[Statement], events: int) -> list[str]:
    return [title, "", intro, "",
            "| share | ms | us/event | calls | rows | statement |", "|---:|---:|---:|---:|---:|---|",
            *[f"| {st.share:.1%} | {st.ms:,.0f} | {st.ms * 1000 / events:.1f} | {st.calls:,} | {st.rows:,} | "
              f"`{st.query.replace('|', '/')}` |" for st in statements], ""]


def with_record(report: str) -> str:
    """`report` (a BENCHMARKS.md) with its optimisation record replaced by the one in `bench/rounds.py`.

    Everything before the record (the run's figures) and from the Profile section on (the run's profiles)
    stays as it is, so the record can grow between full runs without measuring again.
    """
    start = _heading(report, RECORD)
    if start < 0:
        raise ValueError(f"no {RECORD!r} section to replace: write the report with a full run first")
    end = _heading(report, PROFILE, start)
    return report[:start] + OPTIMISATIONS.rstrip("\n") + "\n\n" + (report[end:] if end >= 0 else "")


def median_note(rates: list[float]) -> str:
    """` (the median of N passes: a, b, c events/s)` for a figure that is the median of several passes."""
    if len(rates) < 2:
        return ""
    return f" (the median of {len(rates)} passes: {', '.join(_n(x) for x in rates)} events/s)"


def _heading(report: str, heading: str, start: int = 0) -> int:
    """Where the line that begins with `heading` starts (after `start`); -1: nowhere."""
    at = report.find("\n" + heading, start)
    return at + 1 if at >= 0 else -1


def render(r: Results) -> str:
    """The whole BENCHMARKS.md."""
    m = machine()
    e = r.engines
    loads = f"{r.load_before[0]:.2f} before, {r.load_after[0]:.2f} after, highest seen {r.load_max:.2f}"
    during = [d.cpu.get(OTHERS, 0.0) for d in (r.first, r.rest) if d is not None]
    other = max([*r.background, *during], default=0.0) > 0.3
    out = ["# Benchmarks (性能基准)", "",
           f"Measured by `make bench` on {r.started.strftime('%Y-%m-%d %H:%M UTC')}"
           + (" (a `--quick` smoke run: small sizes, figures are not meaningful)." if r.quick else "."),
           "Every figure below comes from one run on one machine, the engines' ceiling included, so the ratios "
           "compare like with like.", "",
           "## Machine", "",
           *[f"- {k}: {v}" for k, v in m.items()],
           f"- PostgreSQL durability: {'fsync on, synchronous_commit on (defaults)' if r.durable else 'fsync off'}",
           "- PostgreSQL settings: " + ", ".join(f"{k} {v}" for k, v in PG_SETTINGS.items())
           + " (as deploy/k8s/postgres-cluster.yaml; the dev stack of `make run` keeps the defaults but for "
           "shared_buffers 256MB)",
           f"- Load average (1 min): {loads}. Cores kept busy by other processes: {r.background[0]:.2f} in the "
           f"2 s before the run, {r.background[1]:.2f} after it"
           + (f", {max(during):.2f} at most during the drains" if during else "") + "."
           + (" Other work was running on this machine during the run (shared with other engineers' test "
              "suites), so the figures are lower and noisier than on an idle machine." if other else ""),
           "",
           "## How to reproduce", "",
           "```", "make bench                      # full run, writes BENCHMARKS.md (6-10 minutes on 2 cores)",
           ".venv/bin/python -m bench --quick  # smoke run, under a minute",
           f".venv/bin/python -m bench --events {r.events}  # the ledger size of this run",
           ".venv/bin/python -m bench --record-only  # rewrite only the optimisation record (bench/rounds.py)",
           "```", "",
           "The harness starts its own embedded NATS and PostgreSQL (never external ones), runs the ledger and the "
           "audit service as processes exactly as `make run` does, and drives them from this process. The replay "
           "of the demo county's mix runs last, on servers of its own, with every service running while the "
           "county is recorded.", "",
           "## Results", "",
           "| what | figure | target | verdict |", "|---|---:|---|---|",
           *[f"| {w.what} | {w.value} | {w.target} | {w.verdict} |" for w in rows(r)], ""]
    if r.errors:
        out += ["Steps that failed in this run:", "", *[f"- {err}" for err in r.errors], ""]
    out += ["## 1. Engines' ceiling", "",
            f"- JetStream: `publish_async` of 300-byte messages with a `Nats-Msg-Id` (de-duplication, as events "
            f"carry), file storage, 4000 in flight: {_n(e.publish)} acknowledged messages/s. This is the ceiling "
            f"issue 8 sets the ingest target by (\"acknowledged async publish from nats-py\").",
            f"- The same messages by the harness's own publisher (`bench.publisher`, which publishes every event of "
            f"the ingest steps: a reply subject per message under one inbox, answers taken by one subscription, "
            f"no future per message): {_n(e.publish_inbox)} acknowledged messages/s: JetStream itself takes that "
            "much from a leaner Python client" + (f"; the ledger's drain is {r.rest.rate / e.publish_inbox:.2f}x of it."
                                                  if r.rest and e.publish_inbox else "."),
            f"- nats-py consumers over the same messages: pull `fetch(1000)` {_n(e.fetch)} msg/s, ordered push "
            f"consumer {_n(e.ordered)} msg/s.",
            f"- PostgreSQL: binary COPY (asyncpg `copy_records_to_table`) of ledger-shaped rows "
            f"({r.event_bytes} B envelopes), 1000 rows per transaction: bare table "
            f"{_n(e.copy_bare)} rows/s, with the ledger's constraints and indexes {_n(e.copy_indexed)} rows/s.", ""]
    out += ["## 2. Ingest", "",
            f"Events are `audit.completed` envelopes of {r.event_bytes} bytes. Ingest means published -> validated -> "
            "appended with leaf hash, per-cadre chain, Merkle nodes and consumer checkpoint in one transaction -> "
            "acked; signed checkpoints every 1000 events. The read models are applied by the ledger's child "
            f"process meanwhile, {_YIELD.share:.0%} of the time while the writer has a backlog of "
            f"{_YIELD.threshold:,} messages or more (`CADRE_PROJECTION_YIELD_BACKLOG`): how far behind they were "
            "when a drain ended, and how long they took to catch up, is given with it.", ""]
    for label, d in (("first chunk (empty ledger)", r.first), ("sustained backlog drain", r.rest)):
        if d:
            out.append(f"- {label}: {d.events:,} events published at {_n(d.publish_rate)} ev/s with the ledger "
                       f"stopped; drained at {_n(d.rate)} ev/s ({d.rate / e.publish:.2f}x the raw publish rate) in "
                       f"{d.drain_seconds:.1f} s including the writer's start. CPU (cores): {cpu_text(d.cpu)}; "
                       f"CPU per event (us): {us_text(d.cpu_us)}; PostgreSQL checkpoints meanwhile: {d.checkpoints}; "
                       f"read models {d.read_models_behind:,} positions behind when it ended, caught up "
                       f"{d.read_models_after:.1f} s later.")
    if r.live:
        out.append(f"- live: {r.live.events:,} events published at full speed ({_n(r.live.publish_rate)} ev/s) while "
                   f"the ledger ingests; first publish to last commit {_n(r.live.rate)} ev/s. CPU: "
                   f"{cpu_text(r.live.cpu)}; per event (us): {us_text(r.live.cpu_us)}.")
    if r.latency:
        out.append(f"- latency at {_n(r.latency.rate)} ev/s (about half the drain rate), {r.latency.events:,} events: "
                   f"publish -> commit visible (LISTEN on the writer's NOTIFY) p50 {_n(r.latency.visible_p50)} ms, "
                   f"p99 {_n(r.latency.visible_p99)} ms; `committed_at - time` (transaction start vs envelope time) "
                   f"p50 {_n(r.latency.committed_p50)} ms, p99 {_n(r.latency.committed_p99)} ms; PostgreSQL "
                   f"checkpoints meanwhile: {r.latency.checkpoints}. It starts once the read models have caught "
                   "up with the live run; the paced publisher runs without CPython's cyclic collector, whose "
                   "pauses it would otherwise count as ledger latency.")
    if r.latency_live:
        lat = r.latency_live
        out.append(f"- latency at {_n(lat.rate)} ev/s (half the live rate: half of what the machine sustains with the "
                   f"publisher on it; for reference), {lat.events:,} events: publish -> commit visible p50 "
                   f"{_n(lat.visible_p50)} ms, p99 {_n(lat.visible_p99)} ms; `committed_at - time` p50 "
                   f"{_n(lat.committed_p50)} ms, p99 {_n(lat.committed_p99)} ms. CPU: {cpu_text(lat.cpu)}."
                   + (f" {batch_line(lat.batches)[2:]}" if lat.batches else ""))
    out += ["", "## 3. Reads", "",
            "One client (`bench.http_client`: one kept-alive HTTP/1.1 connection, no parsing while timed, as "
            "wrk or hey would read), sequential requests, random cadres with 100 events each "
            "(their events interleaved with 99 other cadres' over the chunk they were written in). Each answer "
            "includes the bearer-token check and the access-trail record (an acknowledged JetStream publish) "
            "the ledger makes before answering; the per-client rate limit is off (`CADRE_RATE_PER_S=0`). Before "
            "the reads the harness waits for the read models and runs `VACUUM (ANALYZE)` on `ledger_events` and "
            "`merkle_nodes`, as an operator would after a bulk load (else autovacuum works through the fresh "
            "rows while reads are measured). A "
            "request's latency runs from sending it to the last byte of the answer; the client then parses "
            "and checks the answer outside the timing. The profiles of the reads (under Profile) come from "
            "passes of their own after the timed ones, so py-spy's sampling does not share the cores with "
            "the timed requests.", ""]
    for label, read in (("history `GET /v1/cadres/{id}/history?limit=100`", r.history_large),
                        ("state `GET /v1/cadres/{id}/state?as_of=2015-03-01`", r.state_large)):
        if read:
            out.append(f"- {label} at {r.events:,} events: p50 {_n(read.p50)} ms, p99 {_n(read.p99)} ms, "
                       f"{_n(read.per_s)} answers/s ({read.requests} requests).")
    if r.history_pages:
        out.append(pages_line(r))
    if r.proofs:
        out.append(f"- inclusion proofs `GET /v1/proofs/inclusion` at tree size {r.proofs.tree_size:,}, each checked "
                   f"with `shared.merkle.verify_inclusion`: {_n(r.proofs.per_s)}/s, p99 {_n(r.proofs.p99_ms)} ms; "
                   f"checking alone {_n(r.proofs.check_per_s)}/s.")
    out += ["", "## 4. Replay", ""]
    if r.replay:
        out.append(f"Every read model (`read_models.all_projections()`, {r.replay.models}) rebuilt from "
                   f"position 0 with `rebuild.rebuild_all` as `python -m services.ledger.rebuild` runs it (each "
                   "read model in a transaction of its own on a connection of its own, the ledger read once for all "
                   f"of them on one more), over the first {r.replay.events:,} events (rebuilding is all or nothing "
                   f"from position 0; the whole {r.events:,}-event ledger would take about "
                   f"{r.events / max(r.replay.rate, 1):.0f} s at this rate): {_n(r.replay.rate)} ledger events/s "
                   f"for all of them{median_note(r.replay.passes)} ({r.replay.seconds:.1f} s; per read model with "
                   f"events of its types, the time its applies took: {r.replay.per_model()}).")
    if r.mixed:
        mixed, rp = r.mixed, r.mixed.replay
        out += ["", "The same replay of a county's mix of events, on a stack of its own: the demo county recorded "
                f"through every service's HTTP API ({mixed.recorded:,} events of {mixed.types} types: careers, "
                "postings and rotations, selections and notices, assessments, audits, reports and inquiries), "
                f"cloned {mixed.copies} times onto other cadres (new ids, each clone's cadre id suffixed), "
                f"{rp.events:,} events in all: {_n(rp.rate)} ledger events/s{median_note(rp.passes)} "
                f"({rp.seconds:.1f} s; per read model, the time its applies took: {rp.per_model()})."]
    out += ["", "## 5. Verify", ""]
    if r.verify:
        out.append(f"{r.verify.how}: {r.verify.events:,} events at {_n(r.verify.rate)} events/s"
                   f"{median_note(r.verify.passes)}; "
                   f"{'the ledger verified' if r.verify.ok else 'PROBLEMS FOUND'}.")
    out += ["", "## 6. Command path", ""]
    if r.command:
        c = r.command
        out.append(f"`POST /v1/audits/A1/complete` to one audit-service process, {c.concurrency} requests in flight, "
                   f"{c.requests} cadres (prepared: {c.prepared_with}): {_n(c.per_s)} requests/s, p50 {_n(c.p50)} "
                   f"ms, p99 {_n(c.p99)} ms. Each request validates, loads the cadre's events from the ledger, "
                   "decides and publishes with optimistic concurrency (no `?wait=committed`).")
    out += ["", "## 7. Growth", "",
            f"The ledger is filled in chunks of {r.chunk:,} events; figures at the end of the first chunk and at "
            f"{r.events:,} events. Flat means the later figure is within {1 - FLAT:.0%} of the earlier.", ""]
    out.append(f"- ingest: {_n(r.rate_small)} ev/s over the first chunk, {_n(r.rate_large)} ev/s over the last.")
    for label, small, large in (("history p50/p99", r.history_small, r.history_large),
                                ("state p50/p99", r.state_small, r.state_large)):
        if small and large:
            out.append(f"- {label}: {_n(small.p50)} / {_n(small.p99)} ms at {r.chunk:,}, "
                       f"{_n(large.p50)} / {_n(large.p99)} ms at {r.events:,}.")
    missed = [w for w in rows(r) if w.verdict.startswith("MISSED")]
    out += ["", "## Missed targets", ""]
    if not missed:
        out.append("None in this run.")
    for w in missed:
        out += why(r, w)
    out += ["", *OPTIMISATIONS.splitlines()]
    out += ["", PROFILE, "",
            "py-spy samples on-CPU Python stacks only (`--nonblocking`, no idle frames); C code (pydantic-core, "
            "orjson, asyncpg's encoders, hashlib) counts as the Python function that called it.", ""]
    out += _profile(r.rest.profile if r.rest else None, "### Ingest: the ledger process during the sustained drain")
    if r.rest and r.rest.statements:
        out += _statements("### Ingest: PostgreSQL during the sustained drain (pg_stat_statements)",
                           f"Execution time per statement over the drain of {r.rest.events:,} events (the ledger's "
                           "writer, its read models and the harness's polling):", r.rest.statements, r.rest.events)
    if r.latency and r.latency.statements:
        out += _statements("### Ingest: PostgreSQL during the latency step at half the drain rate "
                           "(pg_stat_statements)",
                           f"Execution time per statement while {r.latency.events:,} events were published at "
                           f"{_n(r.latency.rate)} ev/s and committed (the read models keep up meanwhile; execution "
                           "time includes waiting for a core):", r.latency.statements, r.latency.events)
    for label, profile in r.profiles.items():
        out += _profile(profile, f"### {label[0].upper()}{label[1:]}")
    if r.pure:
        out += ["### The writer's pure path (cProfile)", "", f"classify -> plan_batch -> Merkle nodes without I/O: "
                f"{r.pure.us_per_event:.1f} us/event without the profiler; inclusive shares under cProfile:",
                "", "| inclusive | function |", "|---:|---|",
                *[f"| {share:.1%} | `{name}` |" for name, share in r.pure.top], ""]
    out.append(f"_Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by `python -m bench`._")
    return "\n".join(out) + "\n"
