"""HTTP adapter of the rotation service: validate, decide on the ledger, publish."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.rotation import commands as c
from services.rotation import domain
from services.rotation.persons import PersonStore
from services.rotation.scheduler import ScanResult, Scheduler
from shared.access import PERSON_READ, PURPOSE, AccessTrail
from shared.clock import Clock
from shared.commands import CommandBus, CommandResult, WaitQuery
from shared.corrections import not_correctable
from shared.decisions import CadreCommand, Decider
from shared.envelope import COUNTY_PATTERN
from shared.guard import county_scoped, require_cadre_in_scope, require_cadre_visible
from shared.http import Api
from shared.ledger_reader import load_cadre, load_counties
from shared.personal import commit_value, mask_resident_id, new_salt, verify_commitment
from shared.problems import NotFound
from shared.request_input import CadrePath, ids_in
from shared.revocations import revocation_route
from shared.trace import traceparent_of

_POST = ids_in("{post_id}")
REGISTRY = ("registry 干部登记",)
POSTINGS = ("postings 任免",)
ROTATION = ("rotation 交流",)


class PersonView(BaseModel):
    """The clear personal data behind a registration, as far as it may be shown."""

    cadre_id: str
    name: str | None = Field(description="Name (姓名); null once erased.")
    id_number_masked: str | None = Field(description="ID number with its middle hidden (身份证号, 部分隐藏).")
    erased: bool = Field(description="The clear values were erased (已删除); the ledger's proofs stay valid.")
    commitments_match: bool | None = Field(
        description="The stored values and salts reproduce the commitments in `cadre.registered` (null once erased).")


class ScanQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    county: str | None = Field(None, pattern=COUNTY_PATTERN, description=(
        "Only this county's postings (县); a county-scoped recorder must name one of its counties: the answer "
        "names the cadres and posts it recorded or skipped."))


class PersonQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: str | None = PURPOSE


def build_api(bus: CommandBus, persons: PersonStore, clock: Clock, scheduler: Scheduler) -> Api:
    """The rotation service's routes."""
    api = Api("cadre-ledger rotation service (任用与交流)", "1.0",
              "The cadre registry, postings, probation and rotation rules, recorded as ledger events.")
    trail = AccessTrail(bus.nc, bus.settings.nats_timeout_s)

    async def run(request: web.Request, cmd: CadreCommand, decide: Decider, wait: WaitQuery,
                  registers: bool = False) -> CommandResult:
        return await bus.execute(cadre_id=cmd.cadre_id, county=cmd.county, rules_on=cmd.occurred_on, decide=decide,
                                 wait_committed=wait.wait == "committed", traceparent=traceparent_of(request),
                                 registers=registers, correction=cmd.correction)

    @api.route("POST", "/v1/cadres/register", summary="Register a cadre (干部登记)", body=c.Registration,
               query=WaitQuery, response=CommandResult, status=202, tags=REGISTRY, errors=(409,))
    async def register(request: web.Request, *, body: c.Registration, query: WaitQuery) -> CommandResult:
        """Publishes `cadre.registered` with salted commitments; the clear name and ID number go to the
        erasable person table, committed only if the event was published. A registration is neither corrected nor
        revoked (422 `correction.not_correctable`): every other fact of the cadre rests on it."""
        if body.correction is not None:  # refused before a person row is reserved for it
            raise not_correctable("cadre.registered")
        name_salt, id_salt = new_salt(), new_salt()
        fields = body.model_dump(exclude={"name", "id_number"})
        cmd = c.RegisterCadre(name_commitment=commit_value(name_salt, body.name),
                              id_number_commitment=commit_value(id_salt, body.id_number), **fields)
        today = clock.today()
        async with persons.reserve(cmd.cadre_id, body.name, body.id_number, name_salt, id_salt):
            return await run(request, cmd, lambda h, _: domain.decide_register(domain.fold(h), cmd, today), query,
                             registers=True)

    @api.route("POST", "/v1/cadres/erase-personal-data", summary="Erase personal data (删除个人信息)",
               body=c.Erasure, query=WaitQuery, response=CommandResult, status=202, tags=REGISTRY,
               errors=(409,))
    async def erase(request: web.Request, *, body: c.Erasure, query: WaitQuery) -> CommandResult:
        """Publishes `person.erased` and erases the clear name, ID number and salts in one step: the erasure
        commits only if the event was published. Every proof stays valid: only commitments were hashed. An
        erasure is not corrected (422 `correction.not_correctable`): the clear values it erased are gone."""
        if body.correction is not None:
            raise not_correctable("person.erased")
        today = clock.today()
        async with persons.erase(body.cadre_id):
            return await run(request, body, lambda h, _: domain.decide_erase(domain.fold(h), body, today), query)

    @api.route("GET", "/v1/cadres/{cadre_id}/person", summary="Personal data behind a registration (个人信息)",
               path_params=CadrePath, query=PersonQuery, response=PersonView, tags=REGISTRY, errors=(404,))
    async def person(request: web.Request, *, path: CadrePath, query: PersonQuery) -> PersonView:
        """The name and masked ID number, and whether they still match the ledger's commitments. Every read,
        answered or refused, is filed in the ledger's access trail (查阅留痕); 503 when it cannot be. A
        county-scoped token gets for a cadre of another county the 404 of an id with no personal data, decided
        before anything of the cadre is read (先定查阅范围)."""
        cadre_id = path.cadre_id
        async with trail.recording(request, cadre_id, PERSON_READ, query.purpose):
            return await _person(request, cadre_id)

    async def _person(request: web.Request, cadre_id: str) -> PersonView:
        # The scope is decided on the cadre's counties before its history or personal data is read: a cadre of
        # another county then costs what an unknown id does (no reply slower by the history, or by a query, to
        # tell it exists), and nothing of it is fetched.
        missing = NotFound(f"no personal data for cadre {cadre_id} (无此干部个人信息)", cadre_id=cadre_id)
        timeout = bus.settings.pg_acquire_timeout_s
        if county_scoped(request):
            require_cadre_visible(request, await load_counties(bus.pool, cadre_id, timeout), missing)
        history = await load_cadre(bus.pool, cadre_id, timeout)
        require_cadre_in_scope(request, {e.county for e in history.events}, missing)
        row = await persons.get(cadre_id)
        if row is None:
            raise missing
        registered = next((e for e in history.events if e.type == "cadre.registered"), None)
        match = None
        if row.name is not None and row.name_salt and row.id_number and row.id_number_salt and registered:
            match = (verify_commitment(row.name_salt, row.name, registered.data["name_commitment"])
                     and verify_commitment(row.id_number_salt, row.id_number, registered.data["id_number_commitment"]))
        return PersonView(cadre_id=cadre_id, name=row.name, erased=row.erased_at is not None, commitments_match=match,
                          id_number_masked=mask_resident_id(row.id_number) if row.id_number else None)

    @api.route("POST", "/v1/posts/{post_id}/assign", summary="Assign a post (任职)", path_params=_POST,
               body=c.Assignment, query=WaitQuery, response=CommandResult, status=202, tags=POSTINGS, errors=(409,))
    async def assign(request: web.Request, *, path: BaseModel, body: c.Assignment, query: WaitQuery) -> CommandResult:
        """Publishes `post.assigned`. A promotion needs a notice closed as clear (or an exemption reason),
        no appointment blocker and no running probation; to a leadership post not filled by election (`elected` not
        true and `kind` not election: 非选举产生的职务) it starts a probation (试用期), unless the post is a principal's
        (正职) and no internal unit's."""
        cmd = c.AssignPost(**dict(path), **dict(body))
        today = clock.today()
        return await run(request, cmd, lambda h, rules: domain.decide_assign(domain.fold(h), cmd, rules, today), query)

    @api.route("POST", "/v1/posts/{post_id}/vacate", summary="Vacate a post (免职)", path_params=_POST,
               body=c.Vacation, query=WaitQuery, response=CommandResult, status=202, tags=POSTINGS, errors=(409,))
    async def vacate(request: web.Request, *, path: BaseModel, body: c.Vacation, query: WaitQuery) -> CommandResult:
        """Publishes `post.vacated`."""
        cmd = c.VacatePost(**dict(path), **dict(body))
        today = clock.today()
        return await run(request, cmd, lambda h, _: domain.decide_vacate(domain.fold(h), cmd, today), query)

    @api.route("POST", "/v1/posts/{post_id}/probation/conclude", summary="Conclude a probation (试用期满考核)",
               path_params=_POST, body=c.ProbationConclusion, query=WaitQuery, response=CommandResult, status=202,
               tags=POSTINGS, errors=(409,))
    async def conclude(request: web.Request, *, path: BaseModel, body: c.ProbationConclusion,
                       query: WaitQuery) -> CommandResult:
        """Publishes `probation.concluded`: from the probation's end on, or earlier when ended early."""
        cmd = c.ConcludeProbation(**dict(path), **dict(body))
        today = clock.today()
        return await run(request, cmd,
                         lambda h, rules: domain.decide_conclude_probation(domain.fold(h), cmd, rules, today), query)

    @api.route("POST", "/v1/posts/{post_id}/rotation/defer", summary="Defer a due rotation (暂缓交流)",
               path_params=_POST, body=c.Deferral, query=WaitQuery, response=CommandResult, status=202,
               tags=ROTATION, errors=(409,))
    async def defer(request: web.Request, *, path: BaseModel, body: c.Deferral, query: WaitQuery) -> CommandResult:
        """Publishes `rotation.deferred`; the approval reference is mandatory."""
        cmd = c.DeferRotation(**dict(path), **dict(body))
        today = clock.today()
        return await run(request, cmd, lambda h, rules: domain.decide_defer(domain.fold(h), cmd, rules, today), query)

    @api.route("POST", "/v1/posts/{post_id}/rotation/complete", summary="Complete a rotation (交流)",
               path_params=_POST, body=c.RotationCompletion, query=WaitQuery, response=CommandResult, status=202,
               tags=ROTATION, errors=(409,))
    async def complete(request: web.Request, *, path: BaseModel, body: c.RotationCompletion,
                       query: WaitQuery) -> CommandResult:
        """Publishes `rotation.completed`: leaves post `post_id` and takes `to`, in one event."""
        cmd = c.CompleteRotation(**dict(path), **dict(body))
        today = clock.today()
        return await run(request, cmd, lambda h, rules: domain.decide_complete(domain.fold(h), cmd, rules, today),
                         query)

    @api.route("POST", "/v1/rotation/scan", summary="Record rotations that fell due (到期扫描)", query=ScanQuery,
               response=ScanResult, tags=ROTATION, records=True)
    async def scan(request: web.Request, *, query: ScanQuery) -> ScanResult:
        """Runs the scheduler now: records `rotation.due` for every tenure limit reached by today and
        not yet recorded (exactly once, also when instances race), of one county with `?county=`. Answers what
        it recorded; each `rotation.due` carries the request's `traceparent`, as a command's event does."""
        return await scheduler.scan(traceparent_of(request), query.county)

    revocation_route(api, bus)  # 撤销: POST /v1/revocations, this service's own types only
    return api
