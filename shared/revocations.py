"""`POST /v1/revocations` (撤销), the same on every command service: one helper declares it.

A correction (更正) is the ordinary command of the event's type with `correction: {event_id, reason}`, so it
needs no route of its own; a revocation records no fact of any type, so each service mounts this one, and
may revoke only the types it records itself (`shared.corrections.decide_revocation`).
"""

from __future__ import annotations

from aiohttp import web

from shared.commands import CommandBus, CommandResult, WaitQuery
from shared.corrections import Revocation
from shared.http import Api
from shared.trace import traceparent_of

CORRECTIONS = ("corrections 更正与撤销",)
PATH = "/v1/revocations"

DESCRIPTION = (
    "Publishes `<type>.revoked` pointing at `event_id`: the event should never have been recorded (e.g. entered "
    "twice, or about another cadre). It stays in the ledger as recorded; what decides or reports reads the "
    "cadre's history without it. The facts recorded after it are not decided again. Only this service's own "
    "types (422 `correction.other_service` names the service that records it); not `cadre.registered`, "
    "`person.erased` or `rotation.due` (`correction.not_correctable`); not a correction or revocation itself "
    "(`correction.target_is_correction`); not twice (`correction.revoked`); an id not in the cadre's history is "
    "`correction.target_unknown`. `occurred_on` is the day the revocation was decided, under the rule set in force "
    "then, on or after the day of the event it revokes (`correction.revocation_before_event`, which gives "
    "`event_occurred_on`); the answer warns `correction.later_facts` when facts were recorded after it, and a "
    "later fact that rests on it (a vacate on its posting, an audit's completion on its start) must go first: "
    "`correction.removes_premise` lists each in `later_events` (`correction.held_twice` when revoking a vacate would "
    "have a later posting take a post still held). To "
    "correct an event instead, send the command that records its type with `correction: {event_id, reason}`. "
    "With `?wait=committed` the answer comes once the ledger holds the event.\n\n"
    "发布 `<类型>.revoked`（撤销），指向被撤销的事件：该事件本不应记录（如重复录入、录错干部）。原事件仍保留在台账中，"
    "判断与报表按撤销后的履历进行；其后记录的事实不重新判断。每个服务只能撤销本服务记录的事件类型；干部登记、"
    "个人信息删除、到期应交流不能撤销；更正、撤销记录本身不能撤销；同一事件不能撤销两次；"
    "撤销决定日期不能早于被撤销事件的发生日期；其后事实以其为前提的（如免职之于任职），须先撤销其后事实。"
    "更正请用记录该类事件的命令并附 `correction`。")


def revocation_route(api: Api, bus: CommandBus) -> None:
    """Declare `POST /v1/revocations` on `api`: the body is decided on the cadre's history as recorded and
    `<type>.revoked` published through `bus` (202 with the CommandResult, `?wait=committed` like every command)."""

    async def revoke(request: web.Request, *, body: Revocation, query: WaitQuery) -> CommandResult:
        return await bus.revoke(body, wait_committed=query.wait == "committed", traceparent=traceparent_of(request))

    api.route("POST", PATH, summary="Revoke an event recorded wrongly (撤销)", body=Revocation, query=WaitQuery,
              response=CommandResult, status=202, tags=CORRECTIONS, description=DESCRIPTION,
              errors=(409,))(revoke)
