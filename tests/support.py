"""Test helpers: a running system (embedded servers + service processes) and an HTTP client."""

from __future__ import annotations

import asyncio
import atexit
import base64
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import nats
import orjson
from aiohttp import web
from click.testing import CliRunner, Result
from prometheus_client.parser import text_string_to_metric_families

from bench.workload import registration
from services.ledger import corrected
from services.ledger.main import MIGRATIONS
from services.ledger.projections import Projection, Span, fetch_events, flush
from services.ledger.rebuild import rebuild
from shared.bus import event_headers
from shared.cli import main as cli_main
from shared.db import migrate
from shared.devstack import DevStack, free_port
from shared.envelope import CloudEvent, new_event, parse_event
from shared.events.audit import AuditCompleted, Finding
from shared.processes import SERVICES, ServiceProcess
from shared.service import writer_dsn
from shared.settings import Settings

KEYS_DIR = Path(tempfile.mkdtemp(prefix="cadre-test-keys-"))
"""One set of keys for every System of a test session, so DEFAULT_TOKEN works on all of them."""
# the directory holds private signing keys: gone with the process that made it, not left in /tmp run after run
atexit.register(shutil.rmtree, KEYS_DIR, True)


@dataclass
class System:
    """Embedded NATS + PostgreSQL and service processes, as `make run` starts them."""

    root: Path
    services: Iterable[str] = ("ledger", "audit")
    extra_env: dict[str, str] = field(default_factory=dict)
    stack: DevStack | None = None
    procs: dict[str, ServiceProcess] = field(default_factory=dict)

    def start(self) -> System:
        """Start servers (or use CADRE_NATS_URL / CADRE_PG_DSN) and the named services."""
        self.stack = DevStack(self.root / "servers", nats_url=os.environ.get("CADRE_NATS_URL"),
                              pg_dsn=os.environ.get("CADRE_PG_DSN"), fast=True, keys_dir=KEYS_DIR).start()
        global DEFAULT_TOKEN
        DEFAULT_TOKEN = self.stack.dev_token(["recorder", "auditor", "operator"])
        for name in self.services:
            self.start_service(name)
        return self

    @property
    def env(self) -> dict[str, str]:
        """Environment common to the service processes (NATS as admin)."""
        return self.env_for(None)

    def env_for(self, service: str | None) -> dict[str, str]:
        """Environment of one service process (its own NATS user)."""
        assert self.stack
        return {**self.stack.service_env(service), "CADRE_COMMIT_WAIT_S": "10", **self.extra_env}

    def start_service(self, name: str, port: int | None = None) -> ServiceProcess:
        """Start (or restart) one service process and wait until it is ready."""
        spec = next(s for s in SERVICES if s.name == name)
        old = self.procs.get(name)
        proc = ServiceProcess(spec, port or (old.port if old else free_port()), self.env_for(name), self.root / "logs")
        self.procs[name] = proc
        proc.wait_ready()
        return proc

    def url(self, name: str) -> str:
        """Base URL of a running service."""
        return self.procs[name].url

    @property
    def pg_dsn(self) -> str:
        assert self.stack and self.stack.pg_dsn
        return self.stack.pg_dsn

    @property
    def nats_url(self) -> str:
        assert self.stack and self.stack.nats_url
        return self.stack.nats_url

    def stop(self) -> None:
        """Stop every service, then the servers."""
        for proc in self.procs.values():
            proc.stop()
        if self.stack:
            self.stack.stop()


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on a free local port for the duration; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def new_cadre_id(prefix: str = "T") -> str:
    """A cadre id no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


async def registered_cadre(system: System, prefix: str = "T", county: str = "431021") -> str:
    """A new cadre id, registered in `county` (every service records facts only about registered cadres)."""
    cadre = new_cadre_id(prefix)
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [registration(cadre, county)]))[0])
    return cadre


async def openapi_document(system: System, service: str) -> dict[str, Any]:
    """The service's /openapi.json as it serves it (the service started first when it is not running)."""
    if service not in system.procs:
        system.start_service(service)
    status, document, _ = await call("GET", f"{system.url(service)}/openapi.json")
    assert status == 200, document
    return dict(document)


async def cli(*args: str) -> Result:
    """Invoke `cadre-ledger` as a user would (in a thread: commands run event loops of their own)."""
    return await asyncio.to_thread(CliRunner().invoke, cli_main, list(args))


def auditor(system: System) -> str:
    """A token of `system` with only the auditor role: what reading a history or exporting a bundle needs."""
    assert system.stack
    return system.stack.dev_token(["auditor"])


DEFAULT_TOKEN: str | None = None
"""A token with every role over every county, issued by the running System's dev key."""
ANONYMOUS = ""
# A browser init script: what a page has over plain HTTP (no secure context), no WebCrypto, so that the auditor
# page's plain-JavaScript hashing and Ed25519 run.
WITHOUT_WEBCRYPTO = "Object.defineProperty(Crypto.prototype, 'subtle', { get: () => undefined });"


async def call(method: str, url: str, json: Any = None, token: str | None = None,
               **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    """One HTTP request (with DEFAULT_TOKEN unless `token` is given; ANONYMOUS sends none).

    Returns (status, parsed JSON or text, headers).
    """
    bearer = DEFAULT_TOKEN if token is None else token
    headers = dict(kwargs.pop("headers", {}) or {})
    if bearer:
        headers.setdefault("Authorization", f"Bearer {bearer}")
    async with aiohttp.ClientSession() as session, \
            session.request(method, url, json=json, headers=headers, **kwargs) as resp:
        text = await resp.text()
        try:
            body: Any = await resp.json(content_type=None)
        except ValueError:
            body = text
        return resp.status, body, dict(resp.headers)


def last_signature_bytes(note: str) -> bytes:
    """The bytes (key ID || signature) of a signed note's last signature line."""
    return base64.b64decode(note.rstrip("\n").rsplit("\n", 1)[1].split(" ")[2])


def with_last_signature_bytes(note: str, raw: bytes) -> str:
    """The note with its last signature line carrying ``raw`` instead: to forge or mangle a signature."""
    head, last = note.rstrip("\n").rsplit("\n", 1)
    return f"{head}\n\u2014 {last.split(' ')[1]} {base64.b64encode(raw).decode()}\n"


async def ledger_metrics(system: System) -> dict[str, float]:
    """The ledger's /metrics samples by name (unlabelled ones, and the batch-size histogram's)."""
    status, text, _ = await call("GET", f"{system.url('ledger')}/metrics")
    assert status == 200
    return {sample.name: sample.value for family in text_string_to_metric_families(text)
            for sample in family.samples if not sample.labels or sample.name.startswith("ledger_batch_size")}


T = TypeVar("T")


async def wait_until(predicate: Callable[[], Awaitable[T | None]], timeout: float = 30.0, interval: float = 0.05) -> T:
    """Poll an async predicate until it returns something truthy, and return that; fail the test on timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


async def log_records(log_path: Path, msg_contains: str) -> list[dict[str, Any]]:
    """The JSON lines a service process wrote to its log (stderr) whose `msg` contains `msg_contains`."""
    text = await asyncio.to_thread(log_path.read_text, errors="replace")
    return [record for line in text.splitlines() if line.startswith("{")
            and msg_contains in (record := orjson.loads(line)).get("msg", "")]


async def projection_caught_up(conn: asyncpg.Connection, name: str) -> bool:
    """Whether the read model `name` has applied every position of the ledger."""
    last = await conn.fetchval("SELECT max(position) FROM ledger_events")
    mine = await conn.fetchval("SELECT position FROM projection_checkpoints WHERE name = $1", name)
    return bool(mine is not None and mine >= last)


Tables = dict[str, list[dict[str, Any]]]


async def rebuilt(system: System, projection: Projection) -> tuple[Tables, Tables, int]:
    """A read model's tables once it has caught up, the positions a rebuild from position 0 replayed, and its tables
    after that rebuild; each table's rows in primary key order (run as the ledger rebuilds: its writer role)."""
    conn = await asyncpg.connect(writer_dsn(Settings(pg_dsn=system.pg_dsn)))
    try:
        await wait_until(lambda: projection_caught_up(conn, projection.name))
        order = {t: await conn.fetchval(
            """SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) FROM pg_index i
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
               WHERE i.indrelid = $1::regclass AND i.indisprimary""", t) for t in projection.tables}

        async def tables() -> Tables:
            return {t: [dict(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY {order[t]}")]
                    for t in projection.tables}

        before = await tables()
        replayed = await rebuild(conn, projection)
        return before, await tables(), replayed
    finally:
        await conn.close()


def audit_body(cadre_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid `complete audit` body for the seed county."""
    body = {"cadre_id": cadre_id, "county": "431021", "occurred_on": "2024-06-30", "audit_type": "departure",
            "report_number": "桂审经责〔2024〕7号", "evaluation": "fairly_good",
            "findings": [{"finding_id": "F1", "category": 3, "amount": "12000.50", "responsibility": "direct"}]}
    body.update(overrides)
    return body


async def prepare_audit(system: System, cadre_id: str, audit_id: str, completed_on: str = "2024-06-30",
                        audit_type: str = "departure") -> None:
    """Record an audit's steps before its completion: started 40 days, opinion requested 20 days and the
    opinion received 10 days (always within the 10-working-day window) before `completed_on`."""
    day = date.fromisoformat(completed_on)
    base = {"cadre_id": cadre_id, "county": "431021"}
    url = f"{system.url('audit')}/v1/audits/{audit_id}"
    steps: list[tuple[str, dict[str, Any]]] = [
        ("start", {"audit_type": audit_type, "period_from": (day - timedelta(days=3 * 365)).isoformat(),
                   "period_to": (day - timedelta(days=45)).isoformat(), "auditing_body": "桂阳县审计局",
                   "post_id": f"P-{cadre_id}" if audit_type == "departure" else None,
                   "occurred_on": (day - timedelta(days=40)).isoformat()}),
        ("opinion-request", {"occurred_on": (day - timedelta(days=20)).isoformat()}),
        ("opinion", {"agrees": True, "occurred_on": (day - timedelta(days=10)).isoformat()})]
    for step, body in steps:
        status, answer, _ = await call("POST", f"{url}/{step}?wait=committed", {**base, **body})
        assert status == 202, answer


def audit_event(cadre_id: str, n: int = 1, county: str = "431021") -> CloudEvent:
    """A valid `audit.completed` envelope, as a service would publish it."""
    data = AuditCompleted(audit_id=f"A{n}", audit_type="in_office", report_number=f"R{n}", evaluation="good",
                          findings=[])
    return new_event(event_type="audit.completed", cadre_id=cadre_id, county=county, service="audit", data=data,
                     occurred_on=date(2020, 1, 1) + timedelta(days=n % 2000), ruleset="431021@2008.1")


SLICE_TRAPS = ',"dataschema":"x","datacontenttype":"application/json"},"data":{"county":"430000"} \\" \\\\ 审计'
"""Text that spells the keys the `data` slice of stored bytes is cut at (shared.envelope.envelope_data)."""


def stored_completion(cadre_id: str, *, traps: bool = False, content_type: bool = True) -> bytes:
    """The bytes the ledger stores for an `audit.completed` envelope: with SLICE_TRAPS in its data strings
    (`traps`), without the optional datacontenttype (`content_type=False`)."""
    event = audit_event(cadre_id)
    obj = orjson.loads(event.canonical())
    if traps:
        findings = [Finding(finding_id="F1", category=3, amount="12.50", responsibility="direct",
                            description=SLICE_TRAPS)]
        obj["data"] = AuditCompleted(audit_id="A1", audit_type="in_office", report_number=SLICE_TRAPS[:60],
                                     evaluation="good", findings=findings).model_dump(mode="json", exclude_none=True)
    if not content_type:
        del obj["datacontenttype"]
    return parse_event(orjson.dumps(obj), event.nats_subject).canonical


NOT_LAID_OUT_CANONICALLY = [
    b' {"county":"431021","data":{"a":1},"dataschema":"s"}',  # not opening as canonical bytes do
    b'{"data":{"a":"b"},"county":"431021","dataschema":"s"}',  # keys out of order
    b'{"county":"431021","data":{"a":[1,{"b":null}]}}',  # nothing after data
]
"""JSON envelopes whose `data` the slice cannot be cut from: parsed whole instead."""


async def publish(nats_url: str, events: Sequence[CloudEvent], chunk: int = 500) -> list[int]:
    """Publish envelopes blindly (no concurrency check), as fast as acks come; returns stream sequences."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        seqs: list[int] = []
        for i in range(0, len(events), chunk):
            acks = await asyncio.gather(*[
                js.publish(e.nats_subject, e.canonical(), headers=event_headers(e, None), timeout=10)
                for e in events[i:i + chunk]])
            seqs.extend(a.seq for a in acks)
        return seqs
    finally:
        await nc.close()


async def publish_raw(nats_url: str, subject: str, data: bytes, headers: dict[str, str] | None = None) -> int:
    """Publish arbitrary bytes on a subject of the stream; returns the stream sequence."""
    nc = await nats.connect(nats_url)
    try:
        ack = await nc.jetstream().publish(subject, data, headers=headers, timeout=10)
        return int(ack.seq)
    finally:
        await nc.close()


async def publish_wire(nats_url: str, subject: bytes, data: bytes) -> None:
    """Publish with the NATS protocol written by hand, for subject bytes no client library would send (NATS
    itself passes on any); returns once the server answered the PING after it (the publish was processed)."""
    url = urlsplit(nats_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        await reader.readline()  # INFO
        connect = {"verbose": False, "pedantic": False, "user": url.username, "pass": url.password}
        writer.write(b"CONNECT " + orjson.dumps(connect) + b"\r\n"
                     + b"PUB %s %d\r\n%s\r\nPING\r\n" % (subject, len(data), data))
        await writer.drain()
        answer = await asyncio.wait_for(reader.readline(), 10)
        assert answer == b"PONG\r\n", answer
    finally:
        writer.close()


async def scratch_database(system: System, name: str, role_prefix: str = "") -> str:
    """A fresh database `name` in the system's PostgreSQL with the ledger's migrations (granting to the roles of
    `role_prefix`); returns its DSN. For tests that need rows of their own in tables the system's database must not
    hold (they are append-only)."""
    admin = await asyncpg.connect(system.pg_dsn)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name}")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    dsn = system.pg_dsn.rsplit("/", 1)[0] + f"/{name}"
    await migrate(dsn, MIGRATIONS, role_prefix)
    return dsn


async def fetch(pg_dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Run a query as the database superuser."""
    conn = await asyncpg.connect(pg_dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def committed_seq(pg_dsn: str) -> int:
    """The ledger writer's committed stream sequence."""
    rows = await fetch(pg_dsn, "SELECT stream_seq FROM consumer_checkpoint WHERE consumer = 'ledger'")
    return int(rows[0]["stream_seq"]) if rows else 0


async def wait_committed(pg_dsn: str, stream_seq: int, timeout: float = 60.0) -> None:
    """Wait until the ledger has committed `stream_seq`."""
    async def done() -> bool:
        return await committed_seq(pg_dsn) >= stream_seq

    await wait_until(done, timeout)


async def event_by_event(conn: asyncpg.Connection, projections: Sequence[Projection], tip: int) -> None:
    """Every projection applied to one event at a time, in position order, as the ledger's corrections say the
    events read: the reference the read models' batched, rebuilt and live rows are compared with."""
    corrections = await corrected.load(conn, tip)
    everything = frozenset().union(*(p.types for p in projections))
    events = {e.position: e for e in await fetch_events(conn, Span(0, tip, corrections), everything)}
    for position in range(1, tip + 1):
        span, e = Span(position - 1, position, corrections), events.get(position)
        for p in projections:
            if not p.types:
                await p.apply(conn, span, [])
            elif e is not None and e.type in p.types:
                await p.apply(conn, span, [e])
            await flush(conn, p)
