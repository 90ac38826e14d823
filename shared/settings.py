"""Configuration from `CADRE_*` environment variables (pydantic-settings)."""

from __future__ import annotations

import re
import sys
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from shared.envelope import COUNTY_PATTERN
from shared.field_errors import message_zh
from shared.urls import nats_server, postgres_dsn, redacted

Port = Annotated[int, Field(ge=1, le=65535)]
County = Annotated[str, StringConstraints(pattern=COUNTY_PATTERN)]


class Settings(BaseSettings):
    """Every knob of every service; each field is read from `CADRE_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="CADRE_", extra="ignore")

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("nats_url")
    @classmethod
    def _nats_url_reads(cls, value: str | None) -> str | None:
        # Read at start, not at the first connect: nats-py's refusal of a URL was a traceback that printed it whole,
        # password and all.
        if value:
            nats_server(value)
        return value

    @field_validator("pg_dsn", "pg_writer_dsn", "pg_reader_dsn", "pg_rotation_dsn")
    @classmethod
    def _dsn_reads(cls, value: str | None) -> str | None:
        # Read at start: asyncpg's refusal of a DSN was a traceback that could quote part of its password.
        if value:
            postgres_dsn(value)
        return value

    @field_validator("counties")
    @classmethod
    def _counties_once(cls, value: list[str]) -> list[str]:
        if twice := sorted({c for c in value if value.count(c) > 1}):
            raise ValueError(f"counties given more than once (县重复): {', '.join(twice)}")
        return value

    def required(self, name: Literal["nats_url", "pg_dsn"]) -> str:
        """A setting a service cannot start without; unset, the process ends (exit 1) naming its variable."""
        value: str | None = getattr(self, name)
        if not value:
            raise SystemExit(f"CADRE_{name.upper()} is not set (未设置): the services need NATS (CADRE_NATS_URL) and "
                             "PostgreSQL (CADRE_PG_DSN); `make run` starts both and sets them")
        return value

    @model_validator(mode="after")
    def _ledger_url_follows_its_port(self) -> Settings:
        if "ledger_url" not in self.model_fields_set:  # `make run` on a moved port, then the CLI: the same ledger
            self.ledger_url = f"http://127.0.0.1:{self.ledger_port}"
        return self

    nats_url: str | None = Field(None, description="NATS server URL, nats://[user:password@]host[:port] (or tls://, "
                                  "ws://, wss://), checked at start; unset: the dev stack starts one.")
    pg_dsn: str | None = Field(None, description="PostgreSQL DSN, postgresql://user:password@host[:port]/database "
                               "(a / ? or # in the password percent-encoded), checked at start, as every *_DSN is; "
                               "unset: the dev stack starts one.")
    pg_writer_dsn: str | None = Field(None, description="DSN of the ledger writer role; default: CADRE_PG_DSN "
                                      "with user cadre_writer (prefixed by CADRE_PG_ROLE_PREFIX).")
    pg_reader_dsn: str | None = Field(None, description="DSN of the read-only role; default: CADRE_PG_DSN with "
                                      "user cadre_reader (prefixed by CADRE_PG_ROLE_PREFIX).")
    pg_role_prefix: str = Field("", pattern=r"^([a-z][a-z0-9]{0,15}_)?$", description="Prefix of this "
                                "deployment's PostgreSQL roles, e.g. hn_ for hn_cadre_writer, hn_cadre_reader, "
                                "hn_cadre_rotation and hn_cadre_auditor: partitions (分区) whose databases share a "
                                "cluster give each its own, since roles belong to the cluster, and a partition's "
                                "roles then reach its database only. Set it before the ledger's first start (the "
                                "migrations create and grant to the prefixed roles); empty: the plain names.")
    data_dir: Path = Field(Path("var"), description="Where the dev stack keeps its servers' data.")
    host: str = Field("127.0.0.1", description="Address the HTTP services listen on.")
    ledger_port: Port = Field(8100, description="HTTP port of the ledger (台账服务).")
    assessment_port: Port = Field(8101, description="HTTP port of the assessment service (考核考察).")
    audit_port: Port = Field(8102, description="HTTP port of the audit service (审计与监督).")
    rotation_port: Port = Field(8103, description="HTTP port of the rotation service (任用与交流).")
    ledger_url: str = Field("http://127.0.0.1:8100", description="Base URL of the ledger for clients (the CLI); "
                            "unset: http://127.0.0.1 on CADRE_LEDGER_PORT.")
    stream: str = Field("CADRE", description="JetStream stream holding every cadre event. Leave it CADRE: the NATS "
                                             "permissions of the services (deploy/nats/nats.conf, "
                                             "deploy/k8s/nats-values.yaml) name that stream.")
    duplicate_window_s: float = Field(120.0, gt=0, description="JetStream de-duplication window, seconds.")
    stream_replicas: int = Field(1, ge=1, le=5, description="Replicas of the streams when a service creates them "
                                 "(3 on a 3-node JetStream cluster); an existing stream is left as it is.")
    consumer: str = Field("ledger", description="Durable consumer name of the ledger writer.")
    counties: list[County] = Field(default_factory=list, description="The counties (GB/T 2260 codes) this "
                                   "deployment records, as a JSON list, when it is one partition (分区) of a larger "
                                   "ledger: the stream a service creates takes only their subjects "
                                   "(cadre.<county>.>), and the command services refuse commands for any other "
                                   "county (422 county.not_served); empty: every county.")
    batch_size: int = Field(1000, ge=1, le=10000, description="Most messages the ledger appends at once while it "
                            "keeps up (below it a batch is what has arrived; larger batches lengthen the wait of "
                            "every event in them).")
    backlog_batch_size: int = Field(3000, ge=1, le=10000, description="Most messages the ledger appends at once when "
                                    "at least that many are waiting (a backlog: fewer, larger transactions drain it "
                                    "about a tenth faster); below CADRE_BATCH_SIZE it means CADRE_BATCH_SIZE.")
    batch_linger_ms: float = Field(10.0, ge=0, le=1000, description="How long the ledger lets a batch short of "
                                   "CADRE_BATCH_SIZE gather once its first message has arrived: each batch costs a "
                                   "transaction, an fsync and an ack, so a trickle cut into batches of a few events "
                                   "keeps the cores busy for nothing; 0: take whatever has arrived at once.")
    projection_yield_backlog: int = Field(20000, ge=0, description="While the ledger writer has at least this many "
                                          "stream messages to commit (a backlog, e.g. after an outage), the read "
                                          "models (读模型) work only CADRE_PROJECTION_BACKLOG_SHARE of the time, so "
                                          "the cores go to the ledger first; 0: they never yield.")
    projection_backlog_share: float = Field(0.2, gt=0, le=1, description="Share of the time the read models work "
                                            "while the writer drains a backlog (they catch up at full speed after).")
    background_nice: int = Field(10, ge=0, le=19, description="How much lower the CPU priority (nice) of the "
                                 "ledger's background process (read models 读模型, access-trail filing) is than the "
                                 "ledger's own, so that answering reads and appending events come first where they "
                                 "share cores; 0: the same priority.")
    nats_timeout_s: float = Field(5.0, gt=0, description="Timeout for every NATS request and publish.")
    pg_pool_min: int = Field(1, ge=0, description="Connections each service pool keeps open.")
    pg_pool_max: int = Field(10, ge=1, description="Most connections in each service pool.")
    pg_acquire_timeout_s: float = Field(5.0, gt=0, description=(
        "Longest wait for a pooled connection; a request that waits longer answers 503 (数据库不可用)."))
    pg_command_timeout_s: float = Field(30.0, gt=0, description=(
        "Longest a single SQL statement may run; a request whose statement runs longer answers 503 (数据库不可用)."))
    writer_pg_timeout_s: float = Field(30.0, gt=0, description="Longest the ledger writer waits for PostgreSQL to "
                                       "answer one statement (a batch's COPY or COMMIT, a lookup, an election query) "
                                       "before it takes its session for cut (a failover, a network that drops "
                                       "packets without a word) and stands down: the batch's transaction rolls back "
                                       "unacked, and the writer is elected again (写入者数据库超时). PostgreSQL also "
                                       "ends a writer session left that long inside a transaction, and (by TCP "
                                       "keepalives) one whose client fell silent within about twice that, which "
                                       "releases the writer lock for the next writer. A batch's longest statement "
                                       "took 0.5 s (10,000 events, or 1 MB messages), so the default leaves a wide "
                                       "margin for a slow disk.")
    commit_wait_s: float = Field(5.0, gt=0, description="Longest wait of `?wait=committed`.")
    checkpoint_key_file: Path | None = Field(
        None, description="File holding the ledger's Ed25519 signing key (signed-note skey format). Kept out of "
        "the database; the dev stack generates one under CADRE_DATA_DIR/keys.")
    auth_public_key_file: Path | None = Field(
        None, description="PEM Ed25519 public key that verifies bearer tokens (the dev stack writes one).")
    rate_per_s: float = Field(200.0, ge=0, description="Requests a second each principal may make on average; 0: "
                              "unlimited.")
    rate_burst: float = Field(400.0, ge=1, description="Requests a principal may make at once before the rate applies.")
    auth_disabled: bool = Field(False, description="Serve without authentication: only for a closed test bench.")
    log_origin: str = Field("cadre-ledger.dev/log/CADRE", description="Origin line of the log's checkpoints.")
    checkpoint_every_n: int = Field(1000, ge=1, description="Sign a checkpoint after this many new events...")
    checkpoint_every_s: float = Field(5.0, gt=0, description="...or this many seconds, when the log grew.")
    witness_keys: list[str] = Field(default_factory=list, description="Public keys (vkey strings or files) of the "
                                    "witnesses (见证方) allowed to cosign checkpoints, as a JSON list: C2SP "
                                    "cosignature/v1 keys (timestamped, `cadre-ledger keygen --cosignature`) or "
                                    "older plain signed-note keys; one per witness name, never the ledger's own "
                                    "(the ledger refuses to start otherwise).")
    fault_exit_after_commits: int | None = Field(
        None, description="Fault injection for tests: the ledger writer exits (like kill -9) right after its N-th "
        "commit, before acknowledging; never set in production.")
    pg_rotation_dsn: str | None = Field(None, description="DSN of the rotation service's personal-data role; "
                                        "default: CADRE_PG_DSN with user cadre_rotation (prefixed by "
                                        "CADRE_PG_ROLE_PREFIX).")
    today: date | None = Field(None, description="Fixed date for tests and demos (CADRE_TODAY); unset: the "
                               "system date.")
    rotation_scan_interval_s: float = Field(60.0, ge=0, description="Seconds between rotation-due scans; 0: only "
                                            "on POST /v1/rotation/scan.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="DEBUG, INFO, WARNING or ERROR (in any case); DEBUG logs every appended event.")
    log_json: bool = Field(True, description="One JSON object per log line on stderr; false: plain text, the context "
                           "fields (request_id...) after the message as key=value.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment.

    A variable that does not fit ends the process (exit 2) with one line per variable naming it, its value and what
    it must be, in English and Chinese: read at start, a configuration error would otherwise be a traceback.
    """
    try:
        return Settings()
    except ValidationError as exc:
        print(invalid_configuration(exc), file=sys.stderr)
        raise SystemExit(2) from None
    except SettingsError as exc:  # a list (or other complex value) that is not JSON: pydantic-settings names the field
        field = re.search(r'field "(\w+)"', str(exc))
        name = f"CADRE_{field[1].upper()}" if field else "a CADRE_* variable"
        print(f"invalid configuration (配置无效):\n  {name} is not JSON ({exc.__cause__ or exc}); a list is written "
              f'as JSON, e.g. ["a", "b"]', file=sys.stderr)
        raise SystemExit(2) from None


def invalid_configuration(exc: ValidationError) -> str:
    """What is wrong with the environment, one `CADRE_*` variable a line."""
    lines = ["invalid configuration (配置无效):"]
    for error in exc.errors(include_url=False):
        name = "CADRE_" + "_".join(str(p) for p in error["loc"][:1]).upper()
        zh = message_zh(error["type"], error["msg"], error.get("ctx"))
        given = error["input"]
        if isinstance(given, str):  # a URL's password (and a NATS token) is not repeated on the console
            given = redacted(given, nats=name == "CADRE_NATS_URL")
        said = "" if zh in error["msg"] else f" ({zh})"  # a validator's own message carries its Chinese already
        lines.append(f"  {name}={given!r}: {error['msg']}{said}")
    return "\n".join(lines)
