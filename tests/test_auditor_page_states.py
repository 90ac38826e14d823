"""The auditor page as an auditor uses it out of order (found by a helper driving it): a second cadre opened before
the first's bundle came back, a check that fails after one that passed, keys saved after a file was checked, a
county-scoped token, a search with more matches than one page."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from playwright.async_api import Browser, Route, expect

import tests.support as support
from shared.envelope import new_event
from shared.events.audit import AuditStarted, ReportReceived
from shared.events.rotation import PostAssigned
from shared.rulesets import ruleset_for
from shared.signednote import generate_key
from tests.auditor_page_support import open_page, record_audit, recorded_bundle
from tests.support import System, call, new_cadre_id, publish, wait_committed, wait_until


async def _log_key(system: System) -> str:
    path = Path(system.env["CADRE_CHECKPOINT_KEY_FILE"]).with_suffix(".vkey")
    return (await asyncio.to_thread(path.read_text)).strip()


async def test_a_late_bundle_of_a_cadre_left_is_dropped_and_a_failed_check_confirms_nothing(
        system: System, browser: Browser) -> None:
    first, second = new_cadre_id("PR"), new_cadre_id("PR")
    await record_audit(system, first)
    await record_audit(system, second)
    base = system.url("ledger")
    page = await open_page(browser, f"{base}/?lang=en", [])
    await page.fill("#token", support.DEFAULT_TOKEN or "")
    await page.click("#token-save")
    await page.fill("#log-keys", await _log_key(system))
    await page.click("#keys-save")
    failing = False

    async def bundle(route: Route) -> None:
        if failing:
            await route.fulfill(status=503, content_type="application/problem+json",
                                body=orjson.dumps({"title": "Unavailable", "status": 503, "detail": "down"}))
            return
        if first in route.request.url:
            await asyncio.sleep(2)  # the first cadre's bundle comes back after the auditor moved on
        await route.continue_()

    await page.route("**/bundle?*", bundle)
    await page.evaluate("id => openCadre(id)", first)
    await expect(page.locator("#timeline tbody tr[data-position]")).to_have_count(3)
    await page.evaluate("id => openCadre(id)", second)
    rows = page.locator("#timeline [data-proof=verified]")
    await expect(rows).to_have_count(3, timeout=15000)
    await asyncio.sleep(2.5)  # the first's bundle has come back meanwhile: dropped
    await expect(rows).to_have_count(3)
    await expect(page.locator("#proof-summary")).not_to_contain_text("failed")
    async with page.expect_download() as download:
        await page.click("#download")
    saved = orjson.loads(await asyncio.to_thread(Path(await (await download.value).path()).read_bytes))
    assert saved["cadre_id"] == second

    failing = True  # saving the keys checks again: the ledger cannot answer, so nothing is confirmed
    await page.click("#keys-save")
    await expect(page.locator("#proof-summary")).to_contain_text("Could not get the verifiable bundle")
    await expect(page.locator("#timeline [data-proof=unchecked]")).to_have_count(3)
    await expect(page.locator("#download")).to_be_disabled()
    await page.context.close()


async def test_a_county_scoped_token_searches_and_lists_its_own_county(system: System, browser: Browser) -> None:
    assert system.stack is not None
    cadre = new_cadre_id("PS")
    await record_audit(system, cadre)
    page = await open_page(browser, f"{system.url('ledger')}/?lang=en", [])
    await page.fill("#token", system.stack.dev_token(["auditor"], ["431021"]))
    await page.locator("#token").press("Enter")  # Enter in the token field uses it, as the button does
    await page.locator("#token").press("Enter")  # twice, before the first lists came: each list once
    await page.fill("#prefix", cadre)
    await page.click("#search button[type=submit]")
    await expect(page.locator("#search-status")).to_have_text("1 cadre(s) found.")
    await expect(page.locator("#results").get_by_role("link", name=cadre)).to_be_visible()
    lists = page.locator("#action-lists .list-block")
    await expect(lists).to_have_count(7)
    await expect(page.locator("#action-lists table, #action-lists .hint")).to_have_count(7, timeout=15000)
    await asyncio.sleep(1)  # every list has come back: none was added twice meanwhile
    await expect(lists).to_have_count(7)
    await expect(page.locator("#action-lists .error")).to_have_count(0)
    await page.context.close()


async def test_a_search_with_more_matches_than_a_page_says_there_are_more(system: System, browser: Browser) -> None:
    prefix = new_cadre_id("PM")
    common: dict[str, Any] = {"county": "431021", "service": "audit", "ruleset": "431021@2008.1"}
    events = [new_event(event_type="audit.started", cadre_id=f"{prefix}{n:02d}", occurred_on=date(2023, 3, 1),
                        **common, data=AuditStarted(audit_id="A1", audit_type="departure",
                                                    period_from=date(2020, 1, 1), period_to=date(2022, 12, 31),
                                                    auditing_body="桂阳县审计局"))
              for n in range(51)]
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, events)))

    async def listed() -> bool:
        status, page_, _ = await call("GET", f"{system.url('ledger')}/v1/cadres?prefix={prefix}&limit=100")
        return status == 200 and len(page_["cadres"]) == 51

    await wait_until(listed)
    page = await open_page(browser, f"{system.url('ledger')}/?lang=en", [])
    await page.fill("#token", support.DEFAULT_TOKEN or "")
    await page.click("#token-save")
    await page.fill("#prefix", prefix)
    await page.click("#search button[type=submit]")
    await expect(page.locator("#search-status")).to_have_text(
        "The first 50 cadres are shown and there are more: type a longer id prefix.")
    await page.context.close()


async def test_a_checked_bundle_file_is_checked_again_when_the_auditor_saves_other_keys(
        system: System, browser: Browser, tmp_path: Path) -> None:
    cadre, bundle = await recorded_bundle(system, "PF")
    file = tmp_path / f"{cadre}.bundle.json"
    file.write_bytes(orjson.dumps(bundle))
    notjson = tmp_path / "notes.json"
    notjson.write_text("hello")
    vkey = await _log_key(system)
    page = await open_page(browser, f"{system.url('ledger')}/", [])  # the Chinese page
    result = page.locator("#bundle-result")
    await page.set_input_files("#bundle-input", str(notjson))
    await expect(result.locator("[data-file=unreadable]")).to_have_text("无法核验此文件：不是 JSON 文件")
    await page.set_input_files("#bundle-input", str(file))
    await expect(result.locator("[data-signature=unchecked]")).to_be_visible()
    _, impostor = generate_key(vkey.split("+")[0])  # the log's name, another key
    await page.fill("#log-keys", impostor)
    await page.click("#keys-save")  # no new file chosen: the same one is checked with the keys now saved
    await expect(result.locator("[data-signature=unsigned]")).to_be_visible()
    await expect(result.locator("[data-proof=untrusted]")).to_have_count(3)
    await expect(result.locator("[data-freshness]")).to_have_count(0)

    # a larger checkpoint of this log verified in this browser before: the file is complete only up to its own
    origin, size = bundle["checkpoint"].split("\n")[:2]
    larger = orjson.dumps({"size": int(size) + 5, "root": "00"}).decode()
    remembered = f"cadre-seen-checkpoint:{origin}"
    await page.evaluate("([key, value]) => localStorage.setItem(key, value)", [remembered, larger])
    await page.set_input_files("#bundle-input", str(notjson))
    await page.set_input_files("#bundle-input", str(file))
    await expect(result.locator("[data-freshness=older]")).to_contain_text(f"（树大小 {int(size) + 5}）")
    await page.context.close()


async def test_list_columns_and_figures_are_named_as_the_api_describes_them(system: System, browser: Browser) -> None:
    """Columns were the API's field names in both languages; two figures of the rotation summary shared one name."""
    await record_audit(system, new_cadre_id("PC"))  # an open finding, so the open-findings list has rows
    for lang, audit_type, cadre in (("zh", "审计类型", "干部编号"), ("en", "audit type", "cadre id")):
        page = await open_page(browser, f"{system.url('ledger')}/?lang={lang}", [])
        await page.fill("#token", support.DEFAULT_TOKEN or "")
        await page.click("#token-save")
        block = page.locator('[data-list="/v1/audits/open-findings"]')
        await expect(block.locator("th[data-field=audit_type]")).to_have_text(audit_type)
        await expect(block.locator("th[data-field=cadre_id]")).to_have_text(cadre)
        pending = page.locator('[data-list="/v1/audits/results-pending"] thead th').nth(1)
        await expect(pending).to_have_text("待办事项" if lang == "zh" else "pending")
        if lang == "zh":
            await page.fill("#figures-county", "431021")
            await page.click("#figures-form button[type=submit]")
            rotated = page.locator('[data-summary="/v1/rotation/summary"]')
            await expect(rotated.locator("[data-figure-name=cadres_rotated]")).to_have_text("交流干部")
            await expect(rotated.locator("[data-figure-name=cadres_by_rule]")).to_have_text("按规则交流干部")
        await page.context.close()


async def test_a_timeline_row_says_yes_or_no_as_its_details_do(system: System, browser: Browser) -> None:
    """A row's short summary showed a flag as true/false, its details as ✓/✗."""
    cadre = new_cadre_id("PB")
    event = new_event(event_type="report.received", cadre_id=cadre, county="431021", service="audit",
                      occurred_on=date(2023, 3, 1), ruleset="431021@2008.1",
                      data=ReportReceived(report_id="JB-1", channel="12380", named=True))
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [event]))[0])
    page = await open_page(browser, f"{system.url('ledger')}/?lang=en&cadre={cadre}", [])
    await page.fill("#token", support.DEFAULT_TOKEN or "")
    await page.click("#token-save")
    summary = page.locator("#timeline tbody tr[data-position] summary")
    await expect(summary).to_have_text("channel: 12380 · named: ✓ · report_id: JB-1")
    await page.context.close()


async def test_a_posts_elected_and_principal_flags_are_named_in_chinese(system: System, browser: Browser) -> None:
    """elected and principal showed under their raw keys as ✓/✗/—, which says nothing to a reader of Chinese: the
    state and a posting's details name them (选举产生, 正职), beside the key on the English page."""
    cadre, on = new_cadre_id("PL"), date(2016, 3, 1)
    events = [new_event(event_type="post.assigned", cadre_id=cadre, county="431021", service="rotation",
                        occurred_on=on, ruleset=ruleset_for("431021", on).id,
                        data=PostAssigned(post_id=f"EL-{elected}", post="副镇长", unit="樟市镇人民政府",
                                          township="樟市镇", level="deputy_section", leadership=True, principal=False,
                                          elected=elected, kind="election" if elected else "lateral",
                                          decision_date=on))
              for elected in (True, False)]
    for position in await publish(system.nats_url, events):
        await wait_committed(system.pg_dsn, position)
    for lang, elected, principal in (("zh", "选举产生", "正职"), ("en", "elected (选举产生)", "principal (正职)")):
        page = await open_page(browser, f"{system.url('ledger')}/?lang={lang}&cadre={cadre}", [])
        await page.fill("#token", support.DEFAULT_TOKEN or "")
        await page.click("#token-save")
        rows = page.locator("#timeline tbody tr[data-position]")
        await expect(rows).to_have_count(2)
        await expect(rows.first.locator("summary")).to_contain_text(f"{elected}: ✓")
        await expect(rows.nth(1).locator("dt[data-key=elected] + dd")).to_have_text("✗")
        await page.click("#state-form button")
        held = page.locator("#state dt[data-key=posts] + dd")
        await expect(held.locator("dt[data-key=elected]")).to_have_text([elected, elected])
        await expect(held.locator("dt[data-key=elected] + dd")).to_have_text(["✓", "✗"])
        await expect(held.locator("dt[data-key=principal]")).to_have_text([principal, principal])
        if lang == "zh":
            await expect(held.locator("dt[data-key=elected]").first).to_have_attribute("title", "elected")
        await page.context.close()


async def test_a_state_or_check_asked_for_again_shows_only_the_newest_answer(system: System, browser: Browser) -> None:
    """The page dropped answers for another cadre only: of two state reads, or two checks, of the one cadre shown,
    the slower answer won though asked for first (a date changed, keys saved twice)."""
    cadre = new_cadre_id("PQ")
    await record_audit(system, cadre)
    page = await open_page(browser, f"{system.url('ledger')}/?lang=en", [])
    await page.fill("#token", support.DEFAULT_TOKEN or "")
    await page.click("#token-save")
    bundles = 0

    async def late(route: Route) -> None:
        nonlocal bundles
        url = route.request.url
        if "/bundle" in url:
            bundles += 1
            if bundles == 1:  # the first check comes back late, and failed
                await asyncio.sleep(2)
                await route.fulfill(status=503, content_type="application/problem+json",
                                    body=orjson.dumps({"title": "Unavailable", "status": 503, "detail": "down"}))
                return
        if "/state" in url and "as_of=2023-04-01" in url:
            await asyncio.sleep(2)
        await route.continue_()

    await page.route("**/v1/cadres/**", late)
    await page.evaluate("id => openCadre(id)", cadre)
    await expect(page.locator("#timeline tbody tr[data-position]")).to_have_count(3)
    await page.fill("#log-keys", await _log_key(system))
    await page.click("#keys-save")  # a second check, answered at once
    await page.fill("#as-of", "2023-04-01")
    await page.click("#state-form button")
    await page.fill("#as-of", "2023-12-31")
    await page.click("#state-form button")
    await expect(page.locator("#state .hint")).to_contain_text("2023-12-31")
    await expect(page.locator("#timeline [data-proof=verified]")).to_have_count(3, timeout=15000)
    await asyncio.sleep(2.5)  # the first check's failure and the first date's state have come back meanwhile
    await expect(page.locator("#state .hint")).to_contain_text("2023-12-31")
    await expect(page.locator("#timeline [data-proof=verified]")).to_have_count(3)
    await expect(page.locator("#download")).to_be_enabled()
    await page.context.close()
