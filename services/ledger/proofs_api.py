"""HTTP routes of the verifiable log: checkpoints, proofs, bundles."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.ledger.proofs import Prover
from services.ledger.queries import unknown_cadre
from services.ledger.tree import StoredCheckpoint
from shared.access import PURPOSE, AccessTrail
from shared.events.types import PG_BIGINT_MAX
from shared.guard import require_cadre_in_scope
from shared.http import Api, json_response
from shared.request_input import CadrePath

TAGS = ("proofs 证明",)


_TIMESTAMP_DESCRIPTION = (
    "When the witness cosigned (联署时间戳 timestamp): POSIX time in seconds, read from its C2SP tlog-cosignature "
    "cosignature/v1 signature (type 0x04), where it is signed with the checkpoint's text; it states that as of "
    "this time the checkpoint was the largest consistent one the witness had seen of this log. null for a "
    "plain signed-note signature (type 0x01), which carries no time, or when the witness's key is no longer "
    "configured. `created_at` is when the ledger stored the cosignature, by the ledger's clock.")
_LATEST_NOTE_DESCRIPTION = (
    "The witness's latest renewal of this checkpoint (联署续签): a later cosignature/v1 of the same checkpoint, "
    "made on a round when the log had not grown. null when the witness has not cosigned it again.")
_LATEST_TIMESTAMP_DESCRIPTION = (
    "The time the latest renewal states (POSIX seconds): as of then the checkpoint was still the largest one "
    "the witness had seen of this log, which is how fresh it is (新鲜度). null without a renewal.")


class _Renewed(BaseModel):
    latest_note: str | None = Field(None, description=_LATEST_NOTE_DESCRIPTION)
    latest_timestamp: int | None = Field(None, description=_LATEST_TIMESTAMP_DESCRIPTION)


class CosignatureOut(_Renewed):
    witness: str = Field(description="Key name of the witness (见证方).")
    note: str = Field(description="The checkpoint note signed by the log and by the witness.")
    created_at: str
    timestamp: int | None = Field(None, description=_TIMESTAMP_DESCRIPTION)


class CheckpointOut(BaseModel):
    id: int
    size: int = Field(description="Tree size: the log's first `size` positions.")
    root: str = Field(description="RFC 9162 root hash, hex.")
    note: str = Field(description="C2SP signed note (tlog-checkpoint) as text.")
    cosignatures: list[CosignatureOut] = Field(default_factory=list,
                                               description="Witnesses' cosigned notes (见证方联署).")


class CosignatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    witness: str = Field(min_length=1, max_length=200, description="Key name of the witness (见证方).")
    note: str = Field(min_length=1, max_length=16_000,
                      description="The checkpoint's note with the witness's signature line added: a C2SP "
                      "tlog-cosignature cosignature/v1 line (type 0x04, timestamped) or a plain signed-note "
                      "line (type 0x01), by the key configured for that witness.")


class CosignatureStored(_Renewed):
    checkpoint_id: int
    witness: str
    note: str = Field(description="The witness's first cosignature of this checkpoint, which the ledger keeps; a "
                      "later cosignature/v1 of it is kept as a renewal (`latest_note`).")
    created_at: str
    timestamp: int | None = Field(None, description=_TIMESTAMP_DESCRIPTION)


class InclusionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    position: int = Field(ge=1, le=PG_BIGINT_MAX, description="Ledger position of the event (leaf index + 1).")
    size: int | None = Field(None, ge=1, le=PG_BIGINT_MAX, description="Tree size; default: the latest checkpoint's.")


class InclusionProof(BaseModel):
    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    proof: list[str]


class ConsistencyQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first: int = Field(ge=1, le=PG_BIGINT_MAX, description="The older tree size.")
    second: int = Field(ge=1, le=PG_BIGINT_MAX, description="The newer tree size.")


class ConsistencyProof(BaseModel):
    first: int
    second: int
    proof: list[str]


class BundleEvent(BaseModel):
    position: int
    cadre_version: int
    prev_hash: str | None
    leaf_hash: str
    canonical: str = Field(description="The stored canonical envelope bytes, base64.")
    inclusion_proof: list[str]


class Bundle(BaseModel):
    format: str
    cadre_id: str
    checkpoint: str = Field(description="Signed checkpoint note the proofs lead to.")
    cosignatures: list[str] = Field(default_factory=list, description=(
        "That checkpoint's note as each witness cosigned it (见证方联署; its latest renewal where there is one): "
        "`cadre-ledger verify bundle FILE --key LOG_KEY --witness-key WITNESS_KEY` requires that witness's "
        "cosignature, so the bundle cannot come from a view of the log no witness saw."))
    head: str = Field(description=(
        "The ledger's signed head (履历完整性声明), a signed note by the checkpoint's key: `cadre-ledger bundle head "
        "v1`, the checkpoint's origin, size and root, then `cadre <id>`, `events <n>` and `last <leaf hash>`: up to "
        "that checkpoint the cadre has exactly these n events, so a bundle with its newest events cut off fails."))
    events: list[BundleEvent]


def _out(cp: StoredCheckpoint, cosignatures: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"id": cp.id, "size": cp.size, "root": cp.root.hex(), "note": cp.note, "cosignatures": cosignatures or []}


class CheckpointPath(BaseModel):
    checkpoint_id: int = Field(ge=1, le=2**63 - 1, description="The checkpoint's id (检查点编号).")


class BundleQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: str | None = PURPOSE
    witnessed: bool = Field(False, description=(
        "Lead the proofs to the newest checkpoint every configured witness cosigned (经见证的检查点), instead of "
        "the newest one; 409 `not-witnessed` when none covering the cadre's events is cosigned yet."))
    prefer_witnessed: bool = Field(False, description=(
        "The newest checkpoint every configured witness cosigned where one covers the cadre's events, else the "
        "newest one (the auditor page's choice: one request, one access record)."))


def add_proof_routes(api: Api, prover: Prover, trail: AccessTrail) -> None:
    """Checkpoints, inclusion and consistency proofs, cadre bundles."""

    @api.route("GET", "/v1/checkpoints/latest", summary="Latest signed checkpoint (最新检查点)",
               response=CheckpointOut, tags=TAGS, errors=(404,))
    async def latest(request: web.Request) -> dict[str, Any]:
        """The newest signed checkpoint of the Merkle log, with the witnesses' cosignatures."""
        checkpoint = await prover.latest()
        return _out(checkpoint, await prover.cosignatures(checkpoint.id))

    @api.route("POST", "/v1/checkpoints", summary="Sign a checkpoint now (立即签署检查点)", response=CheckpointOut,
               status=201, also_ok=(200,), tags=TAGS, access="operator")
    async def sign_now(request: web.Request) -> dict[str, Any] | web.Response:
        """Checkpoint the log as it is now: 201 with the checkpoint signed; 200 with the latest one when the log has
        not grown since it was signed (nothing new to sign)."""
        checkpoint, signed = await prover.checkpoint_now()
        return _out(checkpoint) if signed else json_response(_out(checkpoint))

    @api.route("POST", "/v1/checkpoints/{checkpoint_id}/cosignatures", summary="Add a witness cosignature (见证方联署)",
               path_params=CheckpointPath, body=CosignatureIn, response=CosignatureStored, status=201, tags=TAGS,
               errors=(404, 409, 422), access="auditor")
    async def cosign(request: web.Request, *, path: CheckpointPath, body: CosignatureIn) -> dict[str, Any]:
        """Store a witness's cosignature of a checkpoint.

        The note must be the checkpoint's own text signed by the log and by the named witness, whose
        public key the ledger is configured with (CADRE_WITNESS_KEYS). A cosignature/v1 (C2SP
        tlog-cosignature, type 0x04) carries a timestamp (时间戳); one more than 10 minutes ahead of the
        ledger's clock, or before the checkpoint was signed, is refused (422 `witness.timestamp`), a
        malformed or failing one too (422
        `witness.signature`, naming the problem). A witness cosigns only after checking that the
        checkpoint is consistent with the last one it cosigned: run `cadre-ledger witness cosign`. Needs
        the auditor role (审计员): the audit office is the usual witness.
        """
        return await prover.cosign(path.checkpoint_id, body.witness, body.note)

    @api.route("GET", "/v1/proofs/inclusion", summary="Inclusion proof (包含性证明)", query=InclusionQuery,
               response=InclusionProof, tags=TAGS, errors=(404, 500))
    async def inclusion(request: web.Request, *, query: InclusionQuery) -> dict[str, Any]:
        """RFC 9162 inclusion proof of a position in a tree size."""
        return await prover.inclusion(query.position, query.size)

    @api.route("GET", "/v1/proofs/consistency", summary="Consistency proof (一致性证明)", query=ConsistencyQuery,
               response=ConsistencyProof, tags=TAGS, errors=(500,))
    async def consistency(request: web.Request, *, query: ConsistencyQuery) -> dict[str, Any]:
        """RFC 9162 consistency proof between two tree sizes."""
        return await prover.consistency(query.first, query.second)

    @api.route("GET", "/v1/cadres/{cadre_id}/bundle", summary="Verifiable history bundle (可验证履历包)",
               path_params=CadrePath, query=BundleQuery, response=Bundle, tags=TAGS, errors=(404, 409, 500))
    async def bundle(request: web.Request, *, path: CadrePath, query: BundleQuery) -> dict[str, Any]:
        """The cadre's events, canonical bytes and inclusion proofs against one signed checkpoint, with the
        witnesses' cosignatures of it (`witnessed=true`: a checkpoint every witness cosigned).

        Verify offline with `cadre-ledger verify bundle FILE --key PUBLIC_KEY [--witness-key WITNESS_KEY]`.
        """
        cadre_id = path.cadre_id
        async with trail.recording(request, cadre_id, "bundle", query.purpose):
            counties = await prover.counties_of(cadre_id)
            require_cadre_in_scope(request, counties, unknown_cadre(cadre_id, prover.counties))
        return await prover.bundle(cadre_id, query.witnessed, query.prefer_witnessed)
