"""Partitions (分区) on shared servers: one NATS account and one database per partition, on one nats-server and
one PostgreSQL cluster, each partition's services limited to its counties (`CADRE_COUNTIES`) and its PostgreSQL
roles named apart (`CADRE_PG_ROLE_PREFIX`)."""

from __future__ import annotations

import logging
from pathlib import Path

import asyncpg
import nats
import nats.js.errors
import pytest

import tests.support as support
from shared.bus import ensure_stream, stream_subjects
from shared.db import dsn_as
from shared.devstack import ManagedServer, free_port, nats_url_as, start_nats
from shared.nats_config import partition_user
from shared.processes import SERVICES, ServiceProcess
from tests.support import System, call, new_cadre_id

COUNTIES = {"hn": "431021", "gd": "440103"}


def _person(cadre: str, county: str) -> dict[str, str]:
    return {"cadre_id": cadre, "county": county, "occurred_on": "2021-03-01", "name": "李四",
            "id_number": "431021198801010014", "sex": "male", "birth_month": "1988-01", "work_start": "2010-07-01",
            "unit": "县审计局"}


class Partition:
    """One partition's ledger and rotation service: its own account on the shared nats-server, its own database."""

    def __init__(self, name: str, system: System, nats_server: ManagedServer, nats_dir: Path, pg_dsn: str,
                 logs: Path) -> None:
        self.name, self.county, self.pg_dsn = name, COUNTIES[name], pg_dsn
        self.admin_url = nats_url_as(nats_server.url, nats_dir, partition_user(name, "admin"))
        self.procs: dict[str, ServiceProcess] = {}
        for service in ("ledger", "rotation"):
            env = {**system.env_for(service), "CADRE_PG_DSN": pg_dsn, "CADRE_COUNTIES": f'["{self.county}"]',
                   "CADRE_PG_ROLE_PREFIX": f"{name}_",
                   "CADRE_NATS_URL": nats_url_as(nats_server.url, nats_dir, partition_user(name, service)),
                   "CADRE_LOG_ORIGIN": f"cadre-ledger.test/log/{name}", "CADRE_CHECKPOINT_EVERY_S": "0.2"}
            spec = next(s for s in SERVICES if s.name == service)
            self.procs[service] = ServiceProcess(spec, free_port(), env, logs / name)
        for proc in self.procs.values():
            proc.wait_ready()

    def url(self, service: str) -> str:
        return self.procs[service].url

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.stop()


async def test_two_partitions_share_a_nats_server_and_a_postgresql_cluster_and_keep_apart(
        system: System, tmp_path: Path) -> None:
    nats_dir = tmp_path / "nats"
    server = start_nats(nats_dir, partitions=tuple(COUNTIES))
    parts: dict[str, Partition] = {}
    try:
        for name in COUNTIES:
            dsn = await support.scratch_database(system, f"partition_{name}", role_prefix=f"{name}_")
            parts[name] = Partition(name, system, server, nats_dir, dsn, tmp_path / "logs")
        hn, gd = parts["hn"], parts["gd"]
        cadres = {name: new_cadre_id(name.upper()) for name in parts}
        for name, part in parts.items():
            status, answer, _ = await call("POST", f"{part.url('rotation')}/v1/cadres/register?wait=committed",
                                           _person(cadres[name], part.county))
            assert status == 202 and answer["committed"], answer

        # Each database holds its own partition's events only, at positions of its own log.
        for name, part in parts.items():
            rows = await support.fetch(part.pg_dsn, "SELECT position, cadre_id, county FROM ledger_events")
            assert [tuple(r) for r in rows] == [(1, cadres[name], part.county)], rows

        # Each partition's services log in as roles of its own (hn_cadre_writer...), which reach its database only:
        # roles belong to the cluster, so one partition's password opens nothing of the other's.
        for name, part in parts.items():
            other = next(p for p in parts.values() if p is not part)
            mine = await asyncpg.connect(dsn_as(part.pg_dsn, f"{name}_cadre_reader"))
            try:
                assert await mine.fetchval("SELECT count(*) FROM ledger_events") == 1
            finally:
                await mine.close()
            for role, sql in ((f"{name}_cadre_reader", "SELECT count(*) FROM ledger_events"),
                              (f"{name}_cadre_writer", "SELECT count(*) FROM ledger_events"),
                              (f"{name}_cadre_rotation", "SELECT count(*) FROM person_data"),
                              (f"{name}_cadre_auditor", "SELECT count(*) FROM v_events")):
                theirs = await asyncpg.connect(dsn_as(other.pg_dsn, role))
                try:
                    with pytest.raises(asyncpg.InsufficientPrivilegeError):
                        await theirs.fetchval(sql)
                finally:
                    await theirs.close()
        rows = await support.fetch(hn.pg_dsn, """SELECT DISTINCT grantee FROM information_schema.role_table_grants
                                                 WHERE table_name = 'ledger_events' AND grantee LIKE '%cadre%'""")
        assert {r["grantee"] for r in rows} == {"hn_cadre_writer", "hn_cadre_reader"}, rows

        # A county of another partition is refused by name, before anything is published.
        status, problem, _ = await call("POST", f"{hn.url('rotation')}/v1/cadres/register?wait=committed",
                                        _person(new_cadre_id("X"), gd.county))
        assert status == 422 and problem["rule"] == "county.not_served", problem
        assert problem["field"] == "county" and problem["counties"] == [hn.county], problem
        assert "不由本部署记录" in problem["message_zh"] and "分区" in problem["basis"], problem

        # Each account's CADRE stream takes its counties' subjects only: even a client that skips the services
        # cannot put another county's event in it.
        for name, part in parts.items():
            nc = await nats.connect(part.admin_url)
            try:
                js = nc.jetstream()
                info = await js.stream_info("CADRE")
                assert info.config.subjects == stream_subjects([part.county]) == [f"cadre.{part.county}.>"]
                assert info.state.messages == 1, info.state
                other_county = next(c for c in COUNTIES.values() if c != part.county)
                with pytest.raises(nats.js.errors.NoStreamResponseError):
                    await js.publish(f"cadre.{other_county}.{cadres[name]}", b"{}", timeout=2)
            finally:
                await nc.close()

        # Each ledger signs checkpoints of its own log, under its own origin.
        for name, part in parts.items():
            async def signed(p: Partition = part) -> dict[str, object] | None:
                status, cp, _ = await call("GET", f"{p.url('ledger')}/v1/checkpoints/latest")
                return cp if status == 200 and cp["size"] == 1 else None

            checkpoint = await support.wait_until(signed, timeout=20)
            assert str(checkpoint["note"]).splitlines()[0] == f"cadre-ledger.test/log/{name}", checkpoint
            status, history, _ = await call("GET", f"{part.url('ledger')}/v1/cadres/{cadres[name]}/history")
            assert status == 200 and [e["type"] for e in history["events"]] == ["cadre.registered"], history
        # Another partition's cadre is not found here, and the answer says which counties this partition holds.
        for path in ("history", "state", "bundle"):
            status, problem, _ = await call("GET", f"{hn.url('ledger')}/v1/cadres/{cadres['gd']}/{path}")
            assert status == 404, (path, problem)
            assert problem["counties"] == [COUNTIES["hn"]] and "CADRE_COUNTIES" in problem["detail"], problem
    finally:
        for part in parts.values():
            part.stop()
        server.stop()


def test_an_account_per_partition_in_the_generated_configuration(tmp_path: Path) -> None:
    """What `cadre-ledger nats-config --partition` writes: the users of each partition inside its own account."""
    from click.testing import CliRunner

    from shared.cli import main

    target = tmp_path / "nats.conf"
    result = CliRunner().invoke(main, ["nats-config", "--partition", "hn", "--partition", "gd", "--write",
                                       "--file", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text()
    hn, gd = text.index("  HN: {"), text.index("  GD: {")
    assert "authorization {" not in text and hn < gd
    assert '"hn-ledger", password: $CADRE_NATS_HN_LEDGER_PASSWORD' in text[hn:gd]
    assert '"gd-rotation", password: $CADRE_NATS_GD_ROTATION_PASSWORD' in text[gd:]
    assert "--partition hn --partition gd" in text.splitlines()[0]
    check = CliRunner().invoke(main, ["nats-config", "--partition", "gd", "--file", str(target)])
    assert check.exit_code != 0 and "--partition gd --file" in check.output
    refused = CliRunner().invoke(main, ["nats-config", "--partition", "Hunan", "--file", str(target)])
    assert refused.exit_code == 2 and "分区名" in refused.output
    assert text.count("jetstream: enabled") == 2


async def test_a_stream_created_for_other_counties_is_named_in_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """CADRE_COUNTIES changed after the stream was created: the stream keeps its subjects, and the start says so."""
    server = start_nats(tmp_path / "nats")
    try:
        nc = await nats.connect(server.url)
        try:
            js = nc.jetstream()
            await ensure_stream(js, "CADRE", 120, counties=["431021"])
            with caplog.at_level(logging.WARNING, logger="shared.bus"):
                await ensure_stream(js, "CADRE", 120, counties=["431021"])
                assert caplog.records == []
                await ensure_stream(js, "CADRE", 120, counties=["431021", "440103"])
            [warning] = caplog.records
            assert "流主题与 CADRE_COUNTIES 不符" in warning.getMessage()
            assert warning.__dict__["configured"] == ["cadre.431021.>", "cadre.440103.>"]
            assert (await js.stream_info("CADRE")).config.subjects == ["cadre.431021.>"]
        finally:
            await nc.close()
    finally:
        server.stop()
