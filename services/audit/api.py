"""HTTP adapter of the audit service: validate, decide on the ledger, publish."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import TypeAdapter

from services.audit import domain
from shared.commands import CommandBus, CommandResult, WaitQuery, rules_in_force
from shared.events.types import Identifier
from shared.http import Api, path_param, traceparent_of

_AUDIT_ID: TypeAdapter[Any] = TypeAdapter(Identifier)
TAGS = ("audits 经济责任审计",)


def build_api(bus: CommandBus) -> Api:
    """The audit service's routes, bound to a command bus."""
    api = Api("cadre-ledger audit service (审计与监督)", "1.0",
              "Records economic responsibility audits and supervision actions as ledger events.")

    @api.route("POST", "/v1/audits/{audit_id}/complete", summary="Complete an audit (审计完成)",
               body=domain.AuditCompletion, query=WaitQuery, response=CommandResult, status=202, tags=TAGS,
               errors=(409, 503))
    async def complete_audit(request: web.Request, *, body: domain.AuditCompletion,
                             query: WaitQuery) -> CommandResult:
        """Publishes `audit.completed`. With `?wait=committed` the answer comes once the ledger holds it."""
        command = domain.CompleteAudit(audit_id=path_param(request, "audit_id", _AUDIT_ID), **dict(body))
        rules = rules_in_force(command.county, command.occurred_on)
        return await bus.execute(
            cadre_id=command.cadre_id, county=command.county, ruleset=rules.id,
            decide=lambda history: domain.decide_complete(domain.fold(history), command, rules),
            wait_committed=query.wait == "committed", traceparent=traceparent_of(request))

    return api

