"""A posting of kind election shows its post as elected (选举产生) where a cadre's postings are read, stated or not.

The catalogue says a posting of kind election is to an elected post (`Elected`), and the rotation service records
`elected: true` on every one it decides; a `post.assigned` of kind election recorded without the field (before the
field existed, or by a producer that left it out) is no less an election.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.envelope import new_event
from shared.events.rotation import PostAssigned
from shared.rulesets import ruleset_for
from tests.support import System, call, publish, registered_cadre, wait_committed, wait_until


async def _read(system: System, path: str) -> Any:
    status, body, _ = await call("GET", f"{system.url('ledger')}{path}")
    assert status == 200, body
    return body


async def test_an_election_recorded_without_elected_shows_an_elected_post(system: System) -> None:
    """Found by review: such a posting showed elected null (未说明, not stated) in the postings read model and the
    dossier, beside its kind election."""
    cadre = await registered_cadre(system, "EL")
    on = date(2016, 3, 1)
    assigned = new_event(event_type="post.assigned", cadre_id=cadre, county="431021", service="rotation",
                         occurred_on=on, ruleset=ruleset_for("431021", on).id,
                         data=PostAssigned(post_id=f"ZZ-{cadre}", post="副镇长", unit="樟市镇人民政府",
                                           township="樟市镇", level="deputy_section", leadership=True,
                                           principal=False, kind="election", decision_date=on))
    assert "elected" not in assigned.data
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [assigned]))[0])

    async def listed() -> list[dict[str, Any]]:
        return list((await _read(system, f"/v1/rotation/postings?cadre_id={cadre}"))["postings"])

    await wait_until(listed, timeout=15)
    [row] = await listed()
    assert row["kind"] == "election" and (row["elected"], row["elected_zh"]) == (True, "选举产生"), row
    held = (await _read(system, f"/v1/cadres/{cadre}/state"))["rotation"]["posts"][f"ZZ-{cadre}"]
    assert (held["elected"], held["elected_zh"]) == (True, "选举产生"), held
