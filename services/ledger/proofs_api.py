"""HTTP routes of the verifiable log: checkpoints, proofs, bundles."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from services.ledger.proofs import Prover
from services.ledger.tree import StoredCheckpoint
from shared.envelope import CadreId
from shared.http import Api, path_param, require_counties

_CADRE_ID: TypeAdapter[Any] = TypeAdapter(CadreId)
TAGS = ("proofs 证明",)


class CheckpointOut(BaseModel):
    id: int
    size: int = Field(description="Tree size: the log's first `size` positions.")
    root: str = Field(description="RFC 9162 root hash, hex.")
    note: str = Field(description="C2SP signed note (tlog-checkpoint) as text.")


class InclusionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    position: int = Field(ge=1, description="Ledger position of the event (leaf index + 1).")
    size: int | None = Field(None, ge=1, description="Tree size; default: the latest checkpoint's.")


class InclusionProof(BaseModel):
    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    proof: list[str]


class ConsistencyQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first: int = Field(ge=1, description="The older tree size.")
    second: int = Field(ge=1, description="The newer tree size.")


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
    events: list[BundleEvent]


def _out(cp: StoredCheckpoint) -> dict[str, Any]:
    return {"id": cp.id, "size": cp.size, "root": cp.root.hex(), "note": cp.note}


def add_proof_routes(api: Api, prover: Prover) -> None:
    """Checkpoints, inclusion and consistency proofs, cadre bundles."""

    @api.route("GET", "/v1/checkpoints/latest", summary="Latest signed checkpoint (最新检查点)",
               response=CheckpointOut, tags=TAGS, errors=(404, 503))
    async def latest(request: web.Request) -> dict[str, Any]:
        """The newest signed checkpoint of the Merkle log."""
        return _out(await prover.latest())

    @api.route("POST", "/v1/checkpoints", summary="Sign a checkpoint now (立即签署检查点)", response=CheckpointOut,
               status=201, tags=TAGS, errors=(503,), access="operator")
    async def sign_now(request: web.Request) -> dict[str, Any]:
        """Checkpoint the log as it is now (returns the latest one when the log has not grown)."""
        return _out(await prover.checkpoint_now())

    @api.route("GET", "/v1/proofs/inclusion", summary="Inclusion proof (包含性证明)", query=InclusionQuery,
               response=InclusionProof, tags=TAGS, errors=(404, 503))
    async def inclusion(request: web.Request, *, query: InclusionQuery) -> dict[str, Any]:
        """RFC 9162 inclusion proof of a position in a tree size."""
        return await prover.inclusion(query.position, query.size)

    @api.route("GET", "/v1/proofs/consistency", summary="Consistency proof (一致性证明)", query=ConsistencyQuery,
               response=ConsistencyProof, tags=TAGS, errors=(503,))
    async def consistency(request: web.Request, *, query: ConsistencyQuery) -> dict[str, Any]:
        """RFC 9162 consistency proof between two tree sizes."""
        return await prover.consistency(query.first, query.second)

    @api.route("GET", "/v1/cadres/{cadre_id}/bundle", summary="Verifiable history bundle (可验证履历包)",
               response=Bundle, tags=TAGS, errors=(404, 503))
    async def bundle(request: web.Request) -> dict[str, Any]:
        """The cadre's events, canonical bytes and inclusion proofs against one signed checkpoint.

        Verify offline with `cadre-ledger verify bundle FILE --key PUBLIC_KEY`.
        """
        cadre_id = path_param(request, "cadre_id", _CADRE_ID)
        require_counties(request, await prover.counties_of(cadre_id))
        return await prover.bundle(cadre_id)
