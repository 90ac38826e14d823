"""The auditor page in a real browser (the `browser` fixture: Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from playwright.async_api import Browser, Page, Route, expect

import tests.support as support
from bench.workload import registration
from shared.bundle import verify_bundle
from shared.envelope import new_event
from shared.events import CATALOGUE
from shared.events.audit import AuditCompleted
from shared.events.rotation import PostAssigned, PostFields, RotationCompleted
from shared.keys import load_verifier
from shared.signednote import COSIGNATURE_V1_TYPE, generate_key
from tests.auditor_page_support import open_page, record_audit, recorded_bundle
from tests.support import (
    System,
    call,
    last_signature_bytes,
    new_cadre_id,
    publish,
    wait_committed,
    wait_until,
    with_last_signature_bytes,
)
from tests.witness_support import ledger_with_witness

ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"


async def _dossier_events(page: Page) -> str:
    text: str = await page.evaluate("""() => {
        const dt = [...document.querySelectorAll('#state dt')].find(d => d.textContent === 'events');
        return dt ? dt.nextElementSibling.textContent : '';
    }""")
    return text


async def test_auditor_finds_a_cadre_reads_the_timeline_and_sees_verified_proofs(
        system: System, browser: Browser, tmp_path: Path) -> None:
    cadre = new_cadre_id("PW")
    await record_audit(system, cadre)
    base = system.url("ledger")
    outside: list[str] = []
    page = await open_page(browser, f"{base}/", outside)
    await expect(page.locator("h1")).to_have_text("干部履历审阅")  # Chinese first

    assert support.DEFAULT_TOKEN
    await page.fill("#token", support.DEFAULT_TOKEN)
    await page.click("#token-save")
    await page.fill("#prefix", cadre[:10])
    await page.click("#search button[type=submit]")
    await page.locator("#results").get_by_role("link", name=cadre).click()

    rows = page.locator("#timeline tbody tr[data-position]")
    await expect(rows).to_have_count(3)
    await expect(rows.nth(0)).to_contain_text("经济责任审计开始")
    await expect(rows.nth(0).locator("td.date")).to_have_text("2023-03-01")
    await expect(rows.nth(1)).to_contain_text("征求被审计人书面意见")
    await expect(rows.nth(2)).to_contain_text("经济责任审计完成")
    await expect(rows.nth(2).locator("td.date")).to_have_text("2023-06-30")
    for i in range(3):
        await expect(rows.nth(i).locator(".svc")).to_have_text("audit")
    await expect(page.locator("#timeline [data-proof=verified]")).to_have_count(3, timeout=15000)
    await expect(page.locator("#proof-summary")).to_contain_text("全部通过包含性证明核验")
    await expect(page.locator("#proof-summary")).to_contain_text("根哈希")
    await expect(page.locator("#proof-summary .witnesses")).to_contain_text("该检查点尚无见证方联署")
    await expect(page.locator("#proof-summary [data-signature=unchecked]")).to_contain_text("账本公钥")  # none saved
    await expect(page.locator("#cadre")).to_contain_text("cadre-ledger verify bundle")  # offline, the CLI

    await rows.nth(2).locator("summary").click()
    await expect(rows.nth(2).locator("details")).to_contain_text("桂审经责〔2023〕9号")
    # codes read in Chinese on the Chinese page, the code kept in the tooltip
    await expect(rows.nth(2).locator("summary")).to_contain_text("audit_type: 离任审计")
    await expect(rows.nth(2).locator("details [data-code=good]")).to_have_text("好")
    await expect(rows.nth(2).locator("details [data-code=direct]")).to_have_attribute("title", "direct")

    await page.fill("#as-of", "2023-04-01")
    await page.click("#state-form button")
    await expect(page.locator("#state .hint")).to_contain_text("2023-04-01")
    assert await _dossier_events(page) == "1"
    await page.fill("#as-of", "2023-12-31")
    await page.click("#state-form button")
    await expect(page.locator("#state .hint")).to_contain_text("2023-12-31")
    assert await _dossier_events(page) == "3"

    await expect(page.locator("[data-list='/v1/rotation/due']")).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.locator("#find").scroll_into_view_if_needed()
    await page.screenshot(path=str(ARTIFACTS / "auditor-page.png"))

    async with page.expect_download() as download_info:
        await page.click("#download")
    download = await download_info.value
    bundle = json.loads(await asyncio.to_thread(Path(await download.path()).read_text))
    assert download.suggested_filename == f"{cadre}.bundle.json"
    verifier = load_verifier(str(Path(system.env["CADRE_CHECKPOINT_KEY_FILE"]).with_suffix(".vkey")))
    report = verify_bundle(bundle, [verifier])  # the downloaded file verifies offline, signature included
    assert report.cadre_id == cadre and report.events == 3

    await page.click("#lang-en")
    await expect(page.locator("h1")).to_have_text("Cadre history review")
    await expect(page.locator("#timeline tbody tr[data-position]").nth(0)).to_contain_text(
        "Economic responsibility audit started (经济责任审计开始)")
    await expect(page.locator("#timeline [data-proof=verified]")).to_have_count(3, timeout=15000)
    assert outside == []  # no CDN, nothing fetched from elsewhere
    await page.context.close()


async def test_the_page_names_the_witnesses_who_cosigned_the_checkpoint_it_checked(
        browser: Browser, tmp_path: Path) -> None:
    """With a witness configured and its cosignature made, the page checks the witnessed bundle and names the
    witness with the time its cosignature/v1 states (the signature itself: the CLI)."""
    skey, vkey = generate_key("audit-office", COSIGNATURE_V1_TYPE)
    skey_path = tmp_path / "audit-office.skey"
    skey_path.write_text(skey + "\n")
    async with ledger_with_witness(tmp_path, skey_path, vkey) as witnessed:
        cadre = new_cadre_id("PW")
        await record_audit(witnessed.system, cadre)
        cosigned = await witnessed.cosign()
        assert cosigned.exit_code == 0, cosigned.output
        stated = re.search(r"timestamp \(时间戳\) \d+ \((\S+)\)", cosigned.stdout)
        assert stated, cosigned.stdout

        async def listed() -> bool:  # the page finds cadres in the directory read model, which runs behind
            status, found, _ = await call("GET", f"{witnessed.url}/v1/cadres?limit=50&prefix={cadre[:10]}",
                                          token=witnessed.token())
            return status == 200 and any(c["cadre_id"] == cadre for c in found["cadres"])

        await wait_until(listed)
        page = await open_page(browser, f"{witnessed.url}/", [])
        await page.fill("#token", witnessed.token())
        await page.click("#token-save")
        _, absent = generate_key("county-archive", COSIGNATURE_V1_TYPE)  # a witness that never cosigned
        ledger_vkey = await asyncio.to_thread(Path(witnessed.ledger_vkey).read_text)
        await page.fill("#log-keys", ledger_vkey.strip())
        await page.fill("#witness-keys", f"{vkey}\n\n{absent}\n")
        await page.click("#keys-save")
        await expect(page.locator("#keys-status")).to_have_text("已保存 1 个账本公钥、2 个见证方公钥。")
        await page.fill("#prefix", cadre[:10])
        await page.click("#search button[type=submit]")
        await page.locator("#results").get_by_role("link", name=cadre).click()
        # A witness the auditor requires has not cosigned: the rows' proofs lead to a checkpoint not confirmed.
        await expect(page.locator("#timeline [data-proof=untrusted]")).to_have_count(3, timeout=15000)
        await expect(page.locator("#timeline [data-proof=verified]")).to_have_count(0)
        await expect(page.locator("#proof-summary .witnesses")).to_contain_text(
            f"见证方联署：audit-office ({stated.group(1)})")
        summary = page.locator("#proof-summary")
        await expect(summary.locator("[data-signature=verified].signature")).to_be_visible()
        await expect(summary.locator("[data-head=verified]")).to_contain_text("履历完整")
        await expect(summary.locator("[data-signature=verified].witness")).to_have_text(
            f"见证方 audit-office 的联署已核验（{stated.group(1)}）。")
        await expect(summary.locator("[data-signature=missing]")).to_contain_text("缺少见证方 county-archive 的联署")
        await page.context.close()


async def test_a_list_the_ledger_does_not_serve_shows_as_not_available(system: System, browser: Browser) -> None:
    cadre = new_cadre_id("PW")
    await record_audit(system, cadre)  # an audit completed, its result not applied: a pending row

    async def pending() -> bool:
        _, page, _ = await call("GET", f"{system.url('ledger')}/v1/audits/results-pending?cadre_id={cadre}")
        return bool(page["audits"])

    await wait_until(pending)
    base = system.url("ledger")

    async def without_notices(route: Route) -> None:
        response = await route.fetch()
        document = orjson.loads(await response.body())
        document["paths"].pop("/v1/notices", None)
        await route.fulfill(response=response, body=orjson.dumps(document))

    outside: list[str] = []
    context = await browser.new_context()
    page = await context.new_page()
    await page.route("**/openapi.json", without_notices)
    await page.goto(f"{base}/?lang=en")
    await page.fill("#token", support.DEFAULT_TOKEN or "")
    await page.click("#token-save")
    notices = page.locator("[data-list='/v1/notices']")
    await expect(notices.locator(".unavailable")).to_contain_text("not available")
    # the other lists still render (a table, or the line saying there is nothing to act on)
    await expect(page.locator("[data-list='/v1/rotation/due'] table, [data-list='/v1/rotation/due'] .hint")
                 ).to_be_visible()
    results = page.locator("[data-list='/v1/audits/results-pending']")
    await expect(results.locator("h3")).to_contain_text("Audit results to apply or file (审计结果待运用、待归档)")
    await expect(results.locator("table, .hint")).to_be_visible()
    # what each row is pending for comes right after the cadre: the code, its Chinese beside it
    await expect(results.locator("thead th").nth(1)).to_have_text("pending")
    await expect(results.locator("tbody")).to_contain_text("结果待运用")
    assert outside == []
    await context.close()


async def test_the_timeline_marks_corrected_and_revoked_events_where_they_were_recorded(
        system: System, browser: Browser) -> None:
    cadre = new_cadre_id("PW")
    await record_audit(system, cadre)
    _, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    requested, completed = history["events"][1]["event"], history["events"][2]["event"]
    common: dict[str, Any] = {"cadre_id": cadre, "county": "431021", "service": "audit", "ruleset": "431021@2008.1"}
    fact = AuditCompleted(audit_id="SJ-PW-1", audit_type="departure", report_number="桂审经责〔2023〕10号",
                          evaluation="good", findings=[])
    fixes = [
        new_event(event_type="audit.completed.corrected", occurred_on=date(2023, 6, 30), **common,
                  data=CATALOGUE["audit.completed.corrected"].model.model_validate(
                      {"corrects": completed["id"], "reason": "报告文号录错", "fact": fact})),
        new_event(event_type="audit.opinion_requested.revoked", occurred_on=date(2023, 7, 3), **common,
                  data=CATALOGUE["audit.opinion_requested.revoked"].model.model_validate(
                      {"revokes": requested["id"], "reason": "重复录入"})),
    ]
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, fixes)))

    outside: list[str] = []
    page = await open_page(browser, f"{system.url('ledger')}/?cadre={cadre}", outside)
    await page.fill("#token", support.DEFAULT_TOKEN or "")
    await page.click("#token-save")
    await page.goto(f"{system.url('ledger')}/?cadre={cadre}")
    rows = page.locator("#timeline tbody tr[data-position]")
    await expect(rows).to_have_count(5)
    positions = [await rows.nth(i).get_attribute("data-position") for i in range(5)]
    await expect(rows.nth(1).locator(".corrected")).to_have_text(f"已撤销（见位置 {positions[4]}）")
    await expect(rows.nth(2).locator(".corrected")).to_have_text(f"已更正（见位置 {positions[3]}）")
    await expect(rows.nth(3)).to_contain_text("经济责任审计完成（更正）")
    await expect(rows.nth(0).locator(".corrected")).to_have_count(0)
    assert outside == []


async def test_without_a_token_the_page_asks_for_one_and_calls_nothing_that_would_refuse(
        system: System, browser: Browser) -> None:
    cadre = new_cadre_id("PW")
    await record_audit(system, cadre)
    context = await browser.new_context()
    page = await context.new_page()
    refused: list[int] = []
    page.on("response", lambda r: refused.append(r.status) if r.status in (401, 403) else None)
    await page.goto(f"{system.url('ledger')}/?lang=en&cadre={cadre}")
    await expect(page.locator("[data-list=token]")).to_contain_text("Paste an access token above first")
    await page.fill("#token", support.DEFAULT_TOKEN or "")
    await page.click("#token-save")  # the lists load, and the cadre the address names opens
    await expect(page.locator("#timeline [data-proof=verified]")).to_have_count(3, timeout=15000)
    await expect(page.locator("[data-list=token]")).to_have_count(0)
    assert refused == []
    await context.close()


@pytest.mark.parametrize(("lang", "says"), [("zh", "cadre_id: 格式不符, 须匹配"),
                                            ("en", "cadre_id: String should match pattern")])
async def test_a_refused_request_shows_each_field_it_names_in_the_page_language(
        system: System, browser: Browser, lang: str, says: str) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{system.url('ledger')}/?lang={lang}&cadre=%E5%BC%A0%E4%B8%89")  # a name, not a cadre id
    await page.fill("#token", support.DEFAULT_TOKEN or "")
    await page.click("#token-save")
    error = page.locator("#timeline td.error")
    await expect(error).to_contain_text("路径参数无效")  # the problem's detail, then the field
    await expect(error).to_contain_text(says)
    await context.close()


async def test_page_and_assets_are_served_with_a_strict_policy(system: System) -> None:
    base = system.url("ledger")
    status, html, headers = await support.call("GET", f"{base}/", token=support.ANONYMOUS)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "http://" not in html and "https://" not in html
    scripts = re.findall(r'<script src="([^"]+)"></script>', html)
    assert scripts == ["/web/i18n.js", "/web/proofs.js", "/web/signatures.js",  # in load order
                       "/web/app.js", "/web/checkpoint_lines.js", "/web/lists.js", "/web/bundle_file.js",
                       "/web/figures.js"]
    for asset, kind in [*((script, "javascript") for script in scripts), ("/web/style.css", "text/css")]:
        status, _, headers = await support.call("GET", f"{base}{asset}", token=support.ANONYMOUS)
        assert status == 200 and kind in headers["Content-Type"], asset


async def test_swagger_ui_renders_offline_from_the_vendored_assets(system: System, browser: Browser) -> None:
    outside: list[str] = []
    page = await open_page(browser, f"{system.url('audit')}/docs", outside)
    await expect(page.locator(".opblock").first).to_be_visible(timeout=15000)
    assert await page.locator(".opblock").count() >= 5
    await expect(page.locator(".swagger-ui .title").first).to_contain_text("audit")
    assert outside == []  # the bundle, the stylesheet and the document all come from the service itself
    await page.context.close()


@pytest.mark.parametrize("webcrypto", [True, False], ids=["webcrypto", "plain-javascript"])
async def test_the_page_checks_the_checkpoint_signature_with_the_log_key_the_auditor_saved(
        system: System, browser: Browser, webcrypto: bool) -> None:
    cadre = new_cadre_id("PW")
    await record_audit(system, cadre)
    vkey = (await asyncio.to_thread(
        Path(system.env["CADRE_CHECKPOINT_KEY_FILE"]).with_suffix(".vkey").read_text)).strip()
    name = vkey.split("+")[0]
    context = await browser.new_context()
    if not webcrypto:  # what an auditor's browser has over plain HTTP: no WebCrypto outside a secure context
        await context.add_init_script(support.WITHOUT_WEBCRYPTO)
    page = await context.new_page()
    tampered = False

    async def bundle(route: Route) -> None:
        response = await route.fetch()
        document = orjson.loads(await response.body())
        if tampered:
            raw = bytearray(last_signature_bytes(document["checkpoint"]))  # the log's: the only signature
            raw[-1] ^= 1
            document["checkpoint"] = with_last_signature_bytes(document["checkpoint"], bytes(raw))
        await route.fulfill(response=response, body=orjson.dumps(document))

    await page.route("**/bundle?*", bundle)
    page_url = f"{system.url('ledger')}/?lang=en&cadre={cadre}"
    await page.goto(f"{system.url('ledger')}/?lang=en")
    assert await page.evaluate("Boolean(window.crypto.subtle)") is webcrypto
    await page.fill("#token", support.DEFAULT_TOKEN or "")
    await page.click("#token-save")
    summary = page.locator("#proof-summary")

    wrong_id = vkey.replace(vkey.split("+")[1], format(int(vkey.split("+")[1], 16) ^ 1, "08x"))
    await page.fill("#log-keys", wrong_id)
    await page.click("#keys-save")
    await expect(page.locator("#keys-status.error")).to_contain_text("line 1")
    await expect(page.locator("#keys-status.error")).to_contain_text("密钥编号与公钥不符")

    await page.fill("#log-keys", vkey)
    await page.click("#keys-save")
    await expect(page.locator("#keys-status")).to_have_text("Saved 1 log key(s) and 0 witness key(s).")
    await page.goto(page_url)  # the saved key outlives the page
    await expect(page.locator("#timeline [data-proof=verified]")).to_have_count(3, timeout=15000)
    await expect(summary.locator("[data-signature=verified]")).to_have_text(
        f"The checkpoint's signature verifies with the log key you saved (Ed25519): {name}.")
    await expect(summary.locator("[data-consistency=first]")).to_contain_text("is now remembered in this browser")
    remembered = await page.evaluate("Object.keys(localStorage).find(k => k.startsWith('cadre-seen-checkpoint:'))")
    seen = json.loads(await page.evaluate("key => localStorage.getItem(key)", remembered))

    later = new_cadre_id("PW")  # recorded after that checkpoint: its bundle leads to a larger one
    await record_audit(system, later)
    await page.goto(f"{system.url('ledger')}/?lang=en&cadre={later}")
    await expect(page.locator("#timeline [data-proof=verified]")).to_have_count(3, timeout=15000)
    await expect(summary.locator("[data-consistency=consistent]")).to_have_text(
        f"Consistent with the checkpoint you verified before (tree size {seen['size']}): the ledger only grew "
        "(consistency proof verified).")
    assert json.loads(await page.evaluate("key => localStorage.getItem(key)", remembered))["size"] > seen["size"]
    if webcrypto:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "auditor-page-signatures.png"), full_page=True)

    # A split view: this browser was shown another tree of that size before.
    forged = json.dumps({"size": seen["size"], "root": "00" * 32})
    await page.evaluate("([key, value]) => localStorage.setItem(key, value)", [remembered, forged])
    await page.reload()
    await expect(summary.locator("[data-consistency=inconsistent]")).to_contain_text(
        f"Not consistent with the checkpoint you verified before (tree size {seen['size']})")
    await expect(page.locator("#timeline [data-proof=untrusted]")).to_have_count(3)

    # A rollback: this browser verified a checkpoint larger than the whole log is now.
    beyond = json.dumps({"size": 2**40, "root": "00" * 32})
    await page.evaluate("([key, value]) => localStorage.setItem(key, value)", [remembered, beyond])
    await page.reload()
    await expect(summary.locator("[data-consistency=rolled-back]")).to_contain_text(
        f"The ledger is now smaller than the checkpoint you verified before (tree size {2**40})")
    await expect(page.locator("#timeline [data-proof=untrusted]")).to_have_count(3)

    tampered = True
    await page.goto(page_url)
    await expect(summary.locator("[data-signature=failed]")).to_contain_text("does not verify with the log key",
                                                                            timeout=15000)
    # The hashes are intact, but the checkpoint they lead to is not the log's.
    untrusted = page.locator("#timeline [data-proof=untrusted]")
    await expect(untrusted).to_have_count(3)
    await expect(untrusted.first).to_have_text("checkpoint not confirmed (检查点未获确认)")
    await expect(untrusted.first).to_have_attribute("title", re.compile("not signed by a log key you saved"))
    await expect(summary.locator("[data-consistency]")).to_have_count(0)  # only a verified checkpoint is compared

    tampered = False
    _, impostor = generate_key(name)  # the same name, another key: it signed nothing here
    await page.fill("#log-keys", impostor)
    await page.click("#keys-save")
    await expect(summary.locator("[data-signature=unsigned]")).to_contain_text("No log key you saved signed")
    await expect(page.locator("#timeline [data-proof=untrusted]")).to_have_count(3)
    await context.close()


async def test_the_page_marks_what_it_shows_failed_unless_it_is_what_the_proofs_verified(
        system: System, browser: Browser) -> None:
    """A row passes only when the event it shows is the envelope the verified bytes hold, of the cadre asked for:
    a history answer that differs from the bundle, or another cadre's bundle, fails."""
    cadre, other = new_cadre_id("PW"), new_cadre_id("PW")
    await record_audit(system, cadre)
    await record_audit(system, other)
    base = system.url("ledger")
    page = await open_page(browser, f"{base}/?lang=en", [])
    await page.fill("#token", support.DEFAULT_TOKEN or "")
    await page.click("#token-save")
    rows, summary = page.locator("#timeline tbody tr[data-position]"), page.locator("#proof-summary")

    async def edited_history(route: Route) -> None:
        response = await route.fetch()
        document = orjson.loads(await response.body())
        document["events"][2]["event"]["data"]["report_number"] = "桂审经责〔2023〕99号"
        await route.fulfill(response=response, body=orjson.dumps(document))

    await page.route("**/history?*", edited_history)
    await page.goto(f"{base}/?lang=en&cadre={cadre}")
    await expect(rows.nth(2).locator("[data-proof=failed]")).to_be_visible(timeout=15000)
    await expect(page.locator("#timeline [data-proof=verified]")).to_have_count(2)
    await expect(summary.locator(".error")).to_have_text(
        "1 record(s) failed verification: re-check with the CLI and report it.")
    await page.unroute("**/history?*")

    async def others_bundle(route: Route) -> None:  # proofs that verify, but of another cadre
        response = await route.fetch(url=route.request.url.replace(cadre, other))
        await route.fulfill(response=response)

    await page.route(f"**/cadres/{cadre}/bundle?*", others_bundle)
    await page.reload()
    # The three rows shown are not in it, and its three events (another cadre's) are not shown.
    await expect(summary.locator(".error")).to_have_text(
        "6 record(s) failed verification: re-check with the CLI and report it.", timeout=15000)
    await expect(page.locator("#timeline [data-proof=failed]")).to_have_count(3)
    await page.context.close()


async def test_a_browser_refusing_local_storage_still_gets_every_check_it_can(
        system: System, browser: Browser) -> None:
    """No saved keys and no remembered checkpoint where storage is disabled: the proofs are still checked, and
    saving keys says why it cannot."""
    cadre = new_cadre_id("PW")
    await record_audit(system, cadre)
    context = await browser.new_context()
    await context.add_init_script("Object.defineProperty(window, 'localStorage', "
                                  "{ get() { throw new DOMException('denied', 'SecurityError'); } });")
    page = await context.new_page()
    await page.goto(f"{system.url('ledger')}/?lang=en")
    await page.fill("#token", support.DEFAULT_TOKEN or "")
    await page.click("#token-save")
    await page.goto(f"{system.url('ledger')}/?lang=en&cadre={cadre}")
    await expect(page.locator("#timeline [data-proof=verified]")).to_have_count(3, timeout=15000)
    await expect(page.locator("#proof-summary [data-signature=unchecked]")).to_be_visible()
    vkey = await asyncio.to_thread(Path(system.env["CADRE_CHECKPOINT_KEY_FILE"]).with_suffix(".vkey").read_text)
    await page.fill("#log-keys", vkey.strip())
    await page.click("#keys-save")
    await expect(page.locator("#keys-status.error")).to_have_text(
        "local storage (localStorage) is refused by this browser: keys and verified checkpoints cannot be kept.")
    await context.close()


async def test_a_bundle_file_is_checked_in_the_browser_without_a_token(
        system: System, browser: Browser, tmp_path: Path) -> None:
    """A bundle file received from elsewhere: the page's checks and the saved keys, nothing sent to the server."""
    cadre, bundle = await recorded_bundle(system, "PW")
    good, forged, other = tmp_path / f"{cadre}.bundle.json", tmp_path / "forged.bundle.json", tmp_path / "x.json"
    good.write_bytes(orjson.dumps(bundle))
    raw = bytearray(base64.b64decode(bundle["events"][1]["canonical"]))
    raw[raw.index(b"2023-05-24")] ^= 1  # one digit of the opinion's due date
    forged.write_bytes(orjson.dumps({**bundle, "events": [
        bundle["events"][0], {**bundle["events"][1], "canonical": base64.b64encode(bytes(raw)).decode()},
        bundle["events"][2]]}))
    other.write_text('{"format": "something-else"}')
    cut = tmp_path / "cut.bundle.json"  # its newest record cut off: every remaining proof and link still holds
    cut.write_bytes(orjson.dumps({**bundle, "events": bundle["events"][:2]}))
    old = tmp_path / "old.bundle.json"
    old.write_bytes(orjson.dumps({**bundle, "format": "cadre-ledger-bundle/1"}))
    vkey = (await asyncio.to_thread(
        Path(system.env["CADRE_CHECKPOINT_KEY_FILE"]).with_suffix(".vkey").read_text)).strip()

    requests: list[str] = []
    page = await open_page(browser, f"{system.url('ledger')}/?lang=en", [])
    page.on("request", lambda r: requests.append(r.url) if "/v1/" in r.url else None)
    await page.fill("#log-keys", vkey)
    await page.click("#keys-save")
    result = page.locator("#bundle-result")

    await page.set_input_files("#bundle-input", str(good))
    await expect(result.locator("[data-file=verified]")).to_contain_text("All 3 records pass their inclusion proofs")
    await expect(result.locator("[data-signature=verified]")).to_be_visible()
    await expect(result.locator("[data-head=verified]")).to_contain_text("up to this checkpoint the cadre has 3")
    await expect(result.locator("[data-proof=verified]")).to_have_count(3)

    await page.set_input_files("#bundle-input", str(cut))
    await expect(result.locator("[data-head=incomplete]")).to_contain_text("Incomplete (履历不完整)")
    await expect(result.locator("[data-proof=untrusted]")).to_have_count(2)
    await page.set_input_files("#bundle-input", str(old))
    await expect(result.locator("[data-file=unreadable]")).to_contain_text("export it again")

    await page.set_input_files("#bundle-input", str(forged))
    # Its own hash no longer matches, and the next event's chain no longer leads to it.
    await expect(result.locator("[data-file=failed]")).to_have_text(
        "2 record(s) failed verification: re-check with the CLI and report it.")
    for row, state in enumerate(("verified", "failed", "failed")):
        await expect(result.locator("tr").nth(row).locator(f"[data-proof={state}]")).to_be_visible()

    _, impostor = generate_key(vkey.split("+")[0])  # the log's name, another key: the file's checkpoint is not its
    await page.fill("#log-keys", impostor)
    await page.click("#keys-save")
    await page.set_input_files("#bundle-input", str(good))
    await expect(result.locator("[data-signature=unsigned]")).to_be_visible()
    await expect(result.locator("[data-proof=untrusted]")).to_have_count(3)

    await page.set_input_files("#bundle-input", str(other))
    await expect(result.locator("[data-file=unreadable]")).to_have_text(
        "Cannot check this file: not a cadre-ledger bundle (cadre-ledger-bundle/2)")
    assert [url for url in requests if "/bundle" in url or "/proofs/" in url] == []  # the files stayed here
    await page.context.close()



async def test_the_page_shows_a_countys_figures_for_the_period_the_auditor_chooses(
        system: System, browser: Browser) -> None:
    county = f"44{random.randrange(10_000):04d}"  # a county of its own, so the figures are exact
    cadre = new_cadre_id("FG")
    common: dict[str, Any] = {"cadre_id": cadre, "county": county, "ruleset": "000000@2019.1"}
    assigned = PostAssigned(post_id="P1", post="某镇党政办科员", unit="某镇党政办", township="某镇", level="clerk",
                            leadership=False, kind="lateral", decision_date=date(2012, 3, 1))
    to = PostFields(post_id="P2", post="另镇党政办科员", unit="另镇党政办", township="另镇", level="clerk",
                    leadership=False)
    events = [registration(cadre, county),
              new_event(event_type="post.assigned", occurred_on=date(2012, 3, 1), service="rotation", **common,
                        data=assigned),
              new_event(event_type="rotation.completed", occurred_on=date(2021, 4, 1), service="rotation", **common,
                        data=RotationCompleted(from_post_id="P1", from_post=assigned.post, from_township="某镇", to=to,
                                               decision_date=date(2021, 4, 1), years_in_old_post=9,
                                               days_in_old_post=3318, trigger_rule="township_8y")),
              new_event(event_type="audit.completed", occurred_on=date(2021, 6, 30), service="audit", **common,
                        data=AuditCompleted(audit_id="A1", audit_type="departure", report_number="审〔2021〕1号",
                                            evaluation="good"))]
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, events)))

    async def summarised() -> bool:
        _, body, _ = await call("GET", f"{system.url('ledger')}/v1/rotation/summary?county={county}")
        return bool(body["rotations"])

    await wait_until(summarised)
    page = await open_page(browser, f"{system.url('ledger')}/", [])
    await page.fill("#token", support.DEFAULT_TOKEN or "")
    await page.click("#token-save")
    await page.fill("#figures-county", county)
    await page.fill("#figures-from", "2021-01-01")
    await page.click("#figures-form button")
    rotations = page.locator("[data-summary='/v1/rotation/summary']")
    await expect(rotations.locator("h3")).to_have_text("干部交流情况")
    await expect(rotations.locator("[data-figure=rotations]")).to_have_text("1")
    # each count per kind under its Chinese name, the code in the tooltip
    await expect(rotations.locator("[data-figure=by_rule] [data-code=township_8y]")).to_have_text("乡镇任职满8年")
    audits = page.locator("[data-summary='/v1/audits/summary']")
    await expect(audits.locator("[data-figure=audits]")).to_have_text("1")
    await expect(audits.locator("[data-figure=by_type] [data-code=departure]")).to_have_text("离任审计")
    # each figure under the Chinese term of its meaning, which the tooltip gives in full (the OpenAPI description)
    name = audits.locator("[data-figure-name=cadres_audited]")
    await expect(name).to_have_text("审计对象")
    await expect(name).to_have_attribute("title", re.compile(r"^Cadres those audits were of"))
    await expect(page.locator("[data-summary='/v1/notices/summary'] [data-figure=notices]")).to_have_text("0")
    await expect(page.locator("[data-summary='/v1/reports/funnel'] [data-figure=received]")).to_have_text("0")
    # the annual assessment is a year's: it asks for the year, then shows it
    assessment = page.locator("[data-summary='/v1/assessment/summary']")
    await expect(assessment.locator(".hint")).to_have_text("请填写考核年度。")
    await page.fill("#figures-year", "2021")
    await page.click("#figures-form button")
    await expect(assessment.locator("[data-figure=graded]")).to_have_text("0")
    await expect(assessment.locator("[data-figure=by_grade] [data-code=excellent]")).to_have_text("优秀")
    kinds = assessment.locator("[data-figure=watch_items]")
    await expect(kinds.locator("[data-code=dismissal_case]")).to_have_text("连续两年不称职")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.locator("#figures").screenshot(path=str(ARTIFACTS / "auditor-figures.png"))
    # as it stood on 2021-05-01 (截至): the rotation of 1 April in, the audit of 30 June not yet
    await page.fill("#figures-as-of", "2021-05-01")
    await page.click("#figures-form button")
    await expect(audits.locator("[data-figure=audits]")).to_have_text("0")
    await expect(rotations.locator("[data-figure=rotations]")).to_have_text("1")
    await page.fill("#figures-as-of", "")
    # the period bounds the figures: nothing was completed from 2022 on
    await page.fill("#figures-from", "2022-01-01")
    await page.click("#figures-form button")
    await expect(rotations.locator("[data-figure=rotations]")).to_have_text("0")
    # a refusal shows in its block, in words naming the field
    await page.fill("#figures-to", "2021-01-01")
    await page.click("#figures-form button")
    await expect(page.locator("[data-summary='/v1/notices/summary'] .error")).to_contain_text("posted_to")
    await page.context.close()
