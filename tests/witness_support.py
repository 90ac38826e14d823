"""A ledger with a witness configured, driven through the real HTTP API and CLI (tests of witnesses)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from shared.auth import Role
from shared.cli import main
from shared.keys import load_signer
from shared.signednote import COSIGNATURE_V1_TYPE, ED25519_TYPE, Signer
from tests.support import System, audit_event, call, new_cadre_id, publish, wait_committed, wait_until


@dataclass
class Witnessed:
    system: System
    skey: Path
    witness: Signer
    state: Path

    @property
    def ledger_vkey(self) -> str:
        return str(Path(self.system.env["CADRE_CHECKPOINT_KEY_FILE"]).with_suffix(".vkey"))

    @property
    def url(self) -> str:
        return self.system.url("ledger")

    def token(self, role: Role = "auditor") -> str:
        assert self.system.stack
        return self.system.stack.dev_token([role])

    async def cosign(self) -> Result:
        args = ["witness", "cosign", "--key", str(self.skey), "--ledger-key", self.ledger_vkey, "--url", self.url,
                "--state", str(self.state), "--token", self.token()]
        return await asyncio.to_thread(CliRunner().invoke, main, args)

    async def grow_to(self, size: int) -> dict[str, object]:
        """Append events until the log has `size`, and wait for the writer's checkpoint of that size."""
        _, latest, _ = await call("GET", f"{self.url}/v1/checkpoints/latest")
        have = latest["size"] if isinstance(latest, dict) and "size" in latest else 0
        cadre = new_cadre_id()
        seqs = await publish(self.system.nats_url, [audit_event(cadre, k) for k in range(size - have)])
        await wait_committed(self.system.pg_dsn, max(seqs))

        async def signed() -> dict[str, object] | None:
            _, cp, _ = await call("GET", f"{self.url}/v1/checkpoints/latest")
            return cp if isinstance(cp, dict) and cp.get("size") == size else None

        return dict(await wait_until(signed))


@asynccontextmanager
async def ledger_with_witness(tmp_path: Path, skey_path: Path, vkey: str) -> AsyncIterator[Witnessed]:
    """A ledger configured with the witness key `vkey`, signing a checkpoint after every batch."""
    env = {"CADRE_WITNESS_KEYS": json.dumps([vkey]), "CADRE_CHECKPOINT_EVERY_N": "1",
           "CADRE_CHECKPOINT_EVERY_S": "3600"}
    sys_ = await asyncio.to_thread(System(tmp_path / "sys", services=("ledger",), extra_env=env).start)
    try:
        witness = load_signer(skey_path, key_types=(ED25519_TYPE, COSIGNATURE_V1_TYPE))
        yield Witnessed(sys_, skey_path, witness, tmp_path / "witness-state.json")
    finally:
        await asyncio.to_thread(sys_.stop)
