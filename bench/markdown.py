"""BENCHMARKS.md from one run's results: figures, ratios to the engines, machine, and why targets were missed."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.profile import Profile
from bench.report import FLAT, Results, Row, _n, machine, rows


def _cpu(cpu: dict[str, float]) -> str:
    return ", ".join(f"{name} {cores:.2f}" for name, cores in sorted(cpu.items(), key=lambda kv: -kv[1])) or "n/a"


def _us(cpu_us: dict[str, float]) -> str:
    return ", ".join(f"{name} {us:.0f}" for name, us in sorted(cpu_us.items(), key=lambda kv: -kv[1])
                     if us >= 0.5) or "n/a"


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


def _evidence(r: Results, label: str) -> list[str]:
    """CPU per component and the top own-time functions of a profiled step."""
    out = []
    if label in r.cpu:
        out.append(f"- CPU while it ran (cores): {_cpu(r.cpu[label])}.")
    p = r.profiles.get(label)
    if p and not p.error and p.own:
        out.append(f"- py-spy of {label}: Python on CPU {p.busy:.0%} of the sampled time; top own time: "
                   + "; ".join(f"`{n}` {s:.0%}" for n, s in p.own[:6]) + " (full table under Profile).")
    return out


def _why(r: Results, row: Row) -> list[str]:
    """The evidence behind a missed target, from this run's own measurements."""
    lines = [f"### {row.what}: {row.value}, target {row.target}, {row.verdict}", ""]
    drain = r.rest
    if row.what.startswith("ingest") and drain:
        lines.append(f"- CPU during the drain (cores, of {machine()['cores']}): {_cpu(drain.cpu)}; CPU per event "
                     f"(us): {_us(drain.cpu_us)}: {sum(drain.cpu_us.values()):.0f} us of CPU per event in all, "
                     f"so {machine()['cores']} fully used cores would allow about "
                     f"{int(machine()['cores']) * 1e6 / max(sum(drain.cpu_us.values()), 1):,.0f} events/s.")
        if r.pure:
            lines.append(f"- The writer's pure path (classify -> plan -> Merkle, no I/O) costs "
                         f"{r.pure.us_per_event:.1f} us/event on one core, a ceiling of "
                         f"{1e6 / r.pure.us_per_event:,.0f} events/s before any NATS or PostgreSQL work; "
                         f"validation (`parse_event`) is {r.pure.parse_share:.0%} of it.")
        p = drain.profile
        if p and not p.error and p.own:
            lines.append(f"- py-spy of the writer during the drain: Python on CPU {p.busy:.0%} of the time; top own "
                         f"time: " + "; ".join(f"`{n}` {s:.0%}" for n, s in p.own[:5]) + ".")
        lines.append("- The engines themselves: publish ran at "
                     f"{_n(r.engines.publish)} ev/s and COPY with the ledger's indexes at "
                     f"{_n(r.engines.copy_indexed)} rows/s, each using most of a core; on 2 cores the ledger's own "
                     "process, PostgreSQL and nats-server share what is left.")
    elif row.what.startswith("publish->committed") and r.latency:
        lines.append(f"- At {_n(r.latency.rate)} ev/s: committed_at - time p50/p99 "
                     f"{_n(r.latency.committed_p50)} / {_n(r.latency.committed_p99)} ms (committed_at is the "
                     "transaction's start), seen by a LISTENer on the commit notification "
                     f"{_n(r.latency.visible_p50)} / {_n(r.latency.visible_p99)} ms. CPU: {_cpu(r.latency.cpu)}.")
    elif row.what.startswith(("history", "state")):
        read = r.history_large if row.what.startswith("history") else r.state_large
        if read:
            lines.append(f"- {read.requests} sequential requests, {read.events_per_response:.0f} events per answer, "
                         f"{_n(read.per_s)} answers/s from one client. An answer is: token check, the index scan "
                         "of the cadre's rows, the access-trail record (an acknowledged JetStream publish), and "
                         "building and encoding the JSON.")
        lines += _evidence(r, "history reads (the ledger process)" if row.what.startswith("history")
                           else "state reads (the ledger process)")
    elif row.what.startswith("replay") and r.replay:
        lines.append(f"- Of {r.replay.seconds:.1f} s: reading and decoding the ledger {r.replay.read_seconds:.1f} s; "
                     "applying, per read model: " + ", ".join(
                         f"{name} {sec:.1f} s" for name, sec in r.replay.apply_seconds.items()) + ".")
        lines.append("- `projections.rebuild_all` reads each batch of 5000 events once, decodes every envelope "
                     "once, and hands the batch to every read model in turn, all in one transaction; a read model's "
                     "time is its own Python plus the SQL it sends (statements per event or per cadre). See the CPU "
                     "split between this process and PostgreSQL.")
        lines += _evidence(r, "replay (this process)")
    elif row.what.startswith("verify") and r.verify:
        lines.append(f"- {r.verify.how}. Every row's bytes travel from PostgreSQL and are hashed, parsed and "
                     "compared in one Python process on one core.")
        lines += _evidence(r, "verify (this process)")
    elif row.what.startswith("growth"):
        lines.append(f"- At {r.chunk:,} events {_n(r.rate_small)} ev/s, at {r.events:,} events "
                     f"{_n(r.rate_large)} ev/s (rates from the rows' commit stamps over the first and the last "
                     "chunk).")
    return [*lines, ""]


def render(r: Results) -> str:
    """The whole BENCHMARKS.md."""
    m = machine()
    e = r.engines
    loads = f"{r.load_before[0]:.2f} before, {r.load_after[0]:.2f} after, highest seen {r.load_max:.2f}"
    other = r.load_before[0] > 0.5 or r.load_max > 2.5
    out = ["# Benchmarks (性能基准)", "",
           f"Measured by `make bench` on {r.started.strftime('%Y-%m-%d %H:%M UTC')}"
           + (" (a `--quick` smoke run: small sizes, figures are not meaningful)." if r.quick else "."),
           "Every figure below comes from one run on one machine, the engines' ceiling included, so the ratios "
           "compare like with like.", "",
           "## Machine", "",
           *[f"- {k}: {v}" for k, v in m.items()],
           f"- PostgreSQL durability: {'fsync on, synchronous_commit on (defaults)' if r.durable else 'fsync off'}",
           f"- Load average (1 min): {loads}."
           + (" Other work was running on this machine during the run (shared with other engineers' test "
              "suites), so the figures are lower and noisier than on an idle machine." if other else ""),
           "",
           "## How to reproduce", "",
           "```", "make bench                      # full run, writes BENCHMARKS.md (about 10 minutes)",
           ".venv/bin/python -m bench --quick  # smoke run, under a minute",
           f".venv/bin/python -m bench --events {r.events}  # the ledger size of this run", "```", "",
           "The harness starts its own embedded NATS and PostgreSQL (never external ones), runs the ledger and the "
           "audit service as processes exactly as `make run` does, and drives them from this process.", "",
           "## Results", "",
           "| what | figure | target | verdict |", "|---|---:|---|---|",
           *[f"| {w.what} | {w.value} | {w.target} | {w.verdict} |" for w in rows(r)], ""]
    if r.errors:
        out += ["Steps that failed in this run:", "", *[f"- {err}" for err in r.errors], ""]
    out += ["## 1. Engines' ceiling", "",
            f"- JetStream: `publish_async` of 300-byte messages with a `Nats-Msg-Id` (de-duplication, as events "
            f"carry), file storage, 4000 in flight: {_n(e.publish)} acknowledged messages/s.",
            f"- nats-py consumers over the same messages: pull `fetch(1000)` {_n(e.fetch)} msg/s, ordered push "
            f"consumer {_n(e.ordered)} msg/s.",
            f"- PostgreSQL: binary COPY (asyncpg `copy_records_to_table`) of ledger-shaped rows "
            f"({r.event_bytes} B envelopes, jsonb copy included), 1000 rows per transaction: bare table "
            f"{_n(e.copy_bare)} rows/s, with the ledger's constraints and indexes {_n(e.copy_indexed)} rows/s.", ""]
    out += ["## 2. Ingest", "",
            f"Events are `audit.completed` envelopes of {r.event_bytes} bytes. Ingest means published -> validated -> "
            "appended with leaf hash, per-cadre chain, Merkle nodes and consumer checkpoint in one transaction -> "
            "acked; signed checkpoints every 1000 events; read models kept up by the ledger process meanwhile.", ""]
    for label, d in (("first chunk (empty ledger)", r.first), ("sustained backlog drain", r.rest)):
        if d:
            out.append(f"- {label}: {d.events:,} events published at {_n(d.publish_rate)} ev/s with the ledger "
                       f"stopped; drained at {_n(d.rate)} ev/s ({d.rate / e.publish:.2f}x the raw publish rate) in "
                       f"{d.drain_seconds:.1f} s including the writer's start. CPU (cores): {_cpu(d.cpu)}; "
                       f"CPU per event (us): {_us(d.cpu_us)}.")
    if r.live:
        out.append(f"- live: {r.live.events:,} events published at full speed ({_n(r.live.publish_rate)} ev/s) while "
                   f"the ledger ingests; first publish to last commit {_n(r.live.rate)} ev/s. CPU: {_cpu(r.live.cpu)}; "
                   f"per event (us): {_us(r.live.cpu_us)}.")
    if r.latency:
        out.append(f"- latency at {_n(r.latency.rate)} ev/s (about half the drain rate), {r.latency.events:,} events: "
                   f"publish -> commit visible (LISTEN on the writer's NOTIFY) p50 {_n(r.latency.visible_p50)} ms, "
                   f"p99 {_n(r.latency.visible_p99)} ms; `committed_at - time` (transaction start vs envelope time) "
                   f"p50 {_n(r.latency.committed_p50)} ms, p99 {_n(r.latency.committed_p99)} ms.")
    out += ["", "## 3. Reads", "",
            "One client, sequential requests over a kept-alive connection, random cadres with 100 events each "
            "(their events interleaved with 99 other cadres' over the chunk they were written in). Each answer "
            "includes the bearer-token check and the access-trail record (an acknowledged JetStream publish) "
            "the ledger makes before answering; the per-client rate limit is off (`CADRE_RATE_PER_S=0`).", ""]
    for label, read in (("history `GET /v1/cadres/{id}/history?limit=100`", r.history_large),
                        ("state `GET /v1/cadres/{id}/state?as_of=2015-03-01`", r.state_large)):
        if read:
            out.append(f"- {label} at {r.events:,} events: p50 {_n(read.p50)} ms, p99 {_n(read.p99)} ms, "
                       f"{_n(read.per_s)} answers/s ({read.requests} requests).")
    if r.proofs:
        out.append(f"- inclusion proofs `GET /v1/proofs/inclusion` at tree size {r.proofs.tree_size:,}, each checked "
                   f"with `shared.merkle.verify_inclusion`: {_n(r.proofs.per_s)}/s, p99 {_n(r.proofs.p99_ms)} ms; "
                   f"checking alone {_n(r.proofs.check_per_s)}/s.")
    out += ["", "## 4. Replay", ""]
    if r.replay:
        out.append(f"Every read model (`read_models.all_projections()`, {len(r.replay.apply_seconds)}) rebuilt from "
                   f"position 0 in one pass with `projections.rebuild_all`, over the first {r.replay.events:,} events "
                   f"(rebuilding is all or nothing from position 0; the whole {r.events:,}-event ledger would take "
                   f"about {r.events / max(r.replay.rate, 1):.0f} s at this rate): {_n(r.replay.rate)} ledger "
                   "events/s for all of them "
                   f"({r.replay.seconds:.1f} s; reading and decoding {r.replay.read_seconds:.1f} s, then per read "
                   "model: " + ", ".join(f"{k} {v:.1f} s" for k, v in r.replay.apply_seconds.items()) + ").")
    out += ["", "## 5. Verify", ""]
    if r.verify:
        out.append(f"{r.verify.how}: {r.verify.events:,} events at {_n(r.verify.rate)} events/s; "
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
        out += _why(r, w)
    out += ["", "## Profile", "",
            "py-spy samples on-CPU Python stacks only (`--nonblocking`, no idle frames); C code (pydantic-core, "
            "orjson, asyncpg's encoders, hashlib) counts as the Python function that called it.", ""]
    out += _profile(r.rest.profile if r.rest else None, "### Ingest: the ledger process during the sustained drain")
    for label, profile in r.profiles.items():
        out += _profile(profile, f"### {label[0].upper()}{label[1:]}")
    if r.pure:
        out += ["### The writer's pure path (cProfile)", "", f"classify -> plan_batch -> Merkle nodes without I/O: "
                f"{r.pure.us_per_event:.1f} us/event without the profiler; inclusive shares under cProfile:",
                "", "| inclusive | function |", "|---:|---|",
                *[f"| {share:.1%} | `{name}` |" for name, share in r.pure.top], ""]
    out.append(f"_Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by `python -m bench`._")
    return "\n".join(out) + "\n"
