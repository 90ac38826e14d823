"""`cadre-ledger history` and `quarantine` through the real CLI entry point, against a real ledger."""

from __future__ import annotations

import json
import re

import pytest

from shared.envelope import cadre_subject
from tests.support import (
    System,
    audit_event,
    auditor,
    cli,
    new_cadre_id,
    publish,
    publish_raw,
    wait_committed,
)


async def test_history_prints_every_event_of_the_cadre_in_chain_order(system: System) -> None:
    cadre = new_cadre_id()
    seqs = await publish(system.nats_url, [audit_event(cadre, k) for k in range(3)])
    await wait_committed(system.pg_dsn, max(seqs))
    result = await cli("history", cadre, "--url", system.url("ledger"), "--token", auditor(system))
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines()]
    assert [e["cadre_version"] for e in events] == [1, 2, 3]
    assert {e["cadre_id"] for e in events} == {cadre} and all(len(e["leaf_hash"]) == 64 for e in events)


async def test_history_of_an_unknown_cadre_says_so(system: System) -> None:
    result = await cli("history", new_cadre_id(), "--url", system.url("ledger"), "--token", auditor(system))
    assert result.exit_code == 1 and "404" in result.output and "无此干部记录" in result.output


@pytest.mark.parametrize("command", ["history", "export"])
@pytest.mark.parametrize("cadre_id", ["bad id", "a/../../v1/tip", "张三", "x" * 65, "GY1\n"])
async def test_a_malformed_cadre_id_is_a_usage_error_before_anything_is_sent(command: str, cadre_id: str) -> None:
    # The URL names a port nothing listens on: were anything sent, the command would fail to connect instead.
    extra = ["--out", "/nonexistent/bundle.json"] if command == "export" else []
    result = await cli(command, cadre_id, "--url", "http://127.0.0.1:9", "--token", "t", *extra)
    assert result.exit_code == 2, result.output
    assert "干部编号格式不符" in result.output and "cannot reach" not in result.output


async def test_history_says_when_the_ledger_cannot_be_reached() -> None:
    result = await cli("history", "GY0001", "--url", "http://127.0.0.1:9", "--token", "t")
    assert result.exit_code == 2 and "cannot reach" in result.output and "(无法连接账本)" in result.output


async def test_state_prints_the_dossier_as_of_a_day(system: System) -> None:
    """`cadre-ledger state --as-of`: the audits completed by that day, not those after."""
    cadre = new_cadre_id()
    events = [audit_event(cadre, k) for k in range(2)]
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, events)))
    first, second = (e.occurredon.isoformat() for e in events)
    assert first < second, (first, second)
    result = await cli("state", cadre, "--as-of", first, "--url", system.url("ledger"), "--token", auditor(system))
    assert result.exit_code == 0, result.output
    dossier = json.loads(result.output)
    assert dossier["cadre_id"] == cadre and dossier["as_of"] == first, dossier
    whole = json.loads((await cli("state", cadre, "--url", system.url("ledger"), "--token", auditor(system))).output)
    assert (dossier["events"], set(dossier["audits"])) == (1, {"A0"}), dossier
    assert (whole["events"], set(whole["audits"])) == (2, {"A0", "A1"}), whole


async def test_state_refuses_a_day_that_is_not_one() -> None:
    result = await cli("state", "GY0001", "--as-of", "2015-02-30", "--url", "http://127.0.0.1:9", "--token", "t")
    assert result.exit_code == 2 and "cannot reach" not in result.output, result.output
    assert "not a valid day (日期无效)" in result.output, result.output


async def test_quarantine_prints_each_message_with_its_reason_in_english_and_chinese(system: System) -> None:
    # An operator reads the quarantine from a terminal as well as over HTTP; the reason code alone, and a parser's
    # English detail ("unexpected character: line 1 column 1"), said nothing to a reader of Chinese.
    cadre = new_cadre_id()
    subject = cadre_subject("431021", cadre)
    seqs = [await publish_raw(system.nats_url, subject, b"\xff not json"),
            await publish_raw(system.nats_url, subject, b"[1, 2]")]
    [good] = await publish(system.nats_url, [audit_event(cadre)])
    await wait_committed(system.pg_dsn, good)
    assert system.stack
    operator = system.stack.dev_token(["operator"])
    result = await cli("quarantine", "--url", system.url("ledger"), "--token", operator)
    assert result.exit_code == 0, result.output
    entries = {e["stream_seq"]: e for e in map(json.loads, result.output.splitlines())}
    assert [entries[s]["reason"] for s in seqs] == ["not_json", "not_cloudevent"]
    for seq in seqs:
        entry = entries[seq]
        assert entry["subject"] == subject and entry["detail"] and re.search(r"[\u4e00-\u9fff]", entry["reason_text"])
    assert entries[seqs[0]]["raw_hex"] == b"\xff not json".hex() and entries[seqs[1]]["raw_text"] == "[1, 2]"
    after = await cli("quarantine", "--after", str(entries[seqs[0]]["id"]), "--url", system.url("ledger"), "--token",
                      operator)
    assert seqs[0] not in {json.loads(line)["stream_seq"] for line in after.output.splitlines()}


async def test_a_county_scoped_operator_reads_its_countys_quarantine_with_county(system: System) -> None:
    cadre = new_cadre_id()
    seq = await publish_raw(system.nats_url, cadre_subject("431021", cadre), b"not json")
    [good] = await publish(system.nats_url, [audit_event(cadre)])
    await wait_committed(system.pg_dsn, good)
    assert system.stack
    scoped = system.stack.dev_token(["operator"], counties=["431021"])
    listed = await cli("quarantine", "--county", "431021", "--url", system.url("ledger"), "--token", scoped)
    assert listed.exit_code == 0, listed.output
    assert seq in {json.loads(line)["stream_seq"] for line in listed.output.splitlines()}
    refused = await cli("quarantine", "--url", system.url("ledger"), "--token", scoped)
    assert refused.exit_code != 0 and "须指定授权县域" in refused.output, refused.output
    bad = await cli("quarantine", "--county", "4310", "--url", system.url("ledger"), "--token", scoped)
    assert bad.exit_code == 2 and "六位数字" in bad.output, bad.output
