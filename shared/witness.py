"""A witness (见证方, e.g. the audit office) cosigns the ledger's checkpoints, never two histories.

Each run: fetch the ledger's latest checkpoint over HTTP, check the ledger's signature with the
ledger's public key (brought out of band, never fetched from the ledger), fetch an RFC 9162
consistency proof from the last checkpoint this witness cosigned (kept in a small local state file)
and verify it, remember the new checkpoint, add the witness's cosignature to the note (one more
signed-note line) and hand the cosigned note back to the ledger. A witness refuses when
the new checkpoint does not extend the one it cosigned (a fork, 分叉), when it is older (a rollback)
or names another log. The first run trusts the checkpoint it sees (trust on first use) and says so.

Because a witness never cosigns two inconsistent checkpoints, a ledger operator holding the log's
key still cannot show different histories to different auditors without a witness noticing.

With a cosignature/v1 key (type 0x04, C2SP tlog-cosignature) the cosignature carries the time of the
round (时间戳): "as of T, this is the largest consistent checkpoint this witness has seen of the log".
An older type 0x01 witness key still works and adds a plain signature without a time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from shared.merkle import ProofError, verify_consistency
from shared.signednote import Checkpoint, NoteError, Signer, Verifier, add_signature, open_note


class WitnessError(RuntimeError):
    """The witness could not do its job (ledger unreachable, bad answer, bad state file)."""


class WitnessRefusal(WitnessError):
    """The witness refuses to cosign: the checkpoint does not extend what it cosigned before."""


@dataclass(frozen=True)
class WitnessState:
    """The last checkpoint this witness cosigned."""

    origin: str
    size: int
    root: bytes
    note: str

    @classmethod
    def load(cls, path: Path) -> WitnessState | None:
        """The state in `path`; None when the witness has never cosigned."""
        if not path.exists():
            return None
        try:
            data = orjson.loads(path.read_bytes())
            return cls(str(data["origin"]), int(data["size"]), bytes.fromhex(data["root"]), str(data["note"]))
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise WitnessError(f"witness state {path} is unreadable (见证状态文件损坏): {exc}") from exc

    def save(self, path: Path) -> None:
        """Write the state atomically: a crash leaves the old state or the new one, never half of each. A state
        that cannot be written stops the round before the cosignature is sent (a witness must remember what it
        vouched for); a directory that does not exist is not made, as a mistyped path would be."""
        temporary = path.with_name(path.name + ".tmp")
        data = orjson.dumps({"origin": self.origin, "size": self.size, "root": self.root.hex(), "note": self.note},
                            option=orjson.OPT_INDENT_2)
        try:
            _write_durably(temporary, data)
            os.replace(temporary, path)
            _sync_directory(path.parent)
        except OSError as exc:
            raise WitnessError(f"cannot write the witness state {path} (无法写入见证状态): "
                               f"{exc.strerror or exc}") from exc


def _write_durably(path: Path, data: bytes) -> None:
    """Write `data` and wait for the disk: the cosignature goes out only after the state is stored, so a power cut
    after it must not bring back the state before (the witness would then judge the next checkpoint against a
    checkpoint older than the one it vouched for)."""
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable (POSIX keeps the new name only once the directory is synced)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class CosignResult:
    """What the witness cosigned."""

    checkpoint_id: int
    size: int
    root_hex: str
    previous_size: int | None
    note: str
    """The cosigned note the ledger keeps (an earlier one of this witness, if it had cosigned this checkpoint)."""
    timestamp: int | None
    """Its cosignature/v1 time, POSIX seconds; None with a type 0x01 witness key."""
    latest_timestamp: int | None = None
    """The time of the witness's latest renewal of this checkpoint (a later cosignature of it), if any."""


def check_extends(previous: WitnessState | None, new: Checkpoint, proof: Sequence[bytes]) -> None:
    """Raise `WitnessRefusal` unless `new` extends the previously cosigned checkpoint (pure, no I/O)."""
    if previous is None:
        return
    if new.origin != previous.origin:
        raise WitnessRefusal(f"refused (拒绝联署): the checkpoint is for log {new.origin!r}, this witness follows "
                             f"{previous.origin!r}")
    if new.size < previous.size:
        raise WitnessRefusal(f"refused (拒绝联署): rollback (回滚): the latest checkpoint has size {new.size}, this "
                             f"witness already cosigned size {previous.size}")
    try:
        verify_consistency(previous.size, new.size, previous.root, new.root, proof)
    except ProofError as exc:
        raise WitnessRefusal(f"refused (拒绝联署): fork (分叉): the checkpoint of size {new.size} is not consistent "
                             f"with the one of size {previous.size} this witness cosigned: {exc}") from exc


async def cosign_latest(url: str, witness: Signer, ledger_keys: Sequence[Verifier], state_path: Path,
                        token: str, timeout: float = 10.0,
                        clock: Callable[[], float] = time.time) -> CosignResult:
    """Check the ledger's latest checkpoint against this witness's state, cosign it and post the cosignature.

    `token` is a bearer token with the auditor role: it lets the witness talk to the ledger, while
    the witness's signature is what the cosignature is worth. A cosignature/v1 key signs the time
    `clock()` (POSIX seconds, whole seconds as the format has) once the checks passed.
    """
    base = url.rstrip("/")
    previous = WitnessState.load(state_path)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout),
                                     headers={"Authorization": f"Bearer {token}"}) as session:
        latest = await _request(session, "GET", f"{base}/v1/checkpoints/latest")
        note = str(latest.get("note", ""))
        try:
            body, _ = open_note(note, list(ledger_keys))
            checkpoint = Checkpoint.parse(body)
        except NoteError as exc:
            raise WitnessRefusal(f"refused (拒绝联署): the latest checkpoint is not signed by the ledger's key "
                                 f"(账本签名无效): {exc}") from exc
        proof: list[bytes] = []
        if previous is not None and 0 < previous.size < checkpoint.size:
            answer = await _request(session, "GET", f"{base}/v1/proofs/consistency?first={previous.size}"
                                                    f"&second={checkpoint.size}")
            try:
                proof = [bytes.fromhex(h) for h in answer["proof"]]
            except (KeyError, TypeError, ValueError) as exc:
                raise WitnessError(f"malformed consistency proof from the ledger: {exc}") from exc
        if previous is not None and previous.size == 0:
            previous = None  # an empty tree is a prefix of every tree; RFC 9162 has no proof for it
        check_extends(previous, checkpoint, proof)
        WitnessState(checkpoint.origin, checkpoint.size, checkpoint.root, note).save(state_path)
        # The time is taken after the checks: it states when this witness vouched for the checkpoint.
        cosigned = add_signature(note, witness, timestamp=int(clock()))
        stored = await _request(session, "POST", f"{base}/v1/checkpoints/{int(latest['id'])}/cosignatures",
                                {"witness": witness.name, "note": cosigned})
    stored_timestamp, renewed = stored.get("timestamp"), stored.get("latest_timestamp")
    return CosignResult(int(latest["id"]), checkpoint.size, checkpoint.root.hex(),
                        previous.size if previous else None, str(stored.get("note", cosigned)),
                        stored_timestamp if isinstance(stored_timestamp, int) else None,
                        renewed if isinstance(renewed, int) else None)


async def _request(session: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> dict[str, Any]:
    try:
        async with session.request(method, url, json=body) as resp:
            text = await resp.text()
            if resp.status >= 400:
                raise _refusal_or_error(resp.status, method, url, text)
            answer = orjson.loads(text)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise WitnessError(f"cannot reach the ledger at {url} (无法连接账本): {exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise WitnessError(f"not JSON from {url}: {exc}") from exc
    if not isinstance(answer, dict):
        raise WitnessError(f"unexpected answer from {url}")
    return answer


def _refusal_or_error(status: int, method: str, url: str, text: str) -> WitnessError:
    """A 4xx problem naming a rule is the ledger refusing the cosignature (witness.unknown_key, witness.timestamp...):
    the round ran and was told no. Any other error answer (a bad token, a server error) kept it from running."""
    try:
        problem = orjson.loads(text)
    except orjson.JSONDecodeError:
        problem = None
    if 400 <= status < 500 and isinstance(problem, dict) and isinstance(problem.get("rule"), str):
        detail = problem.get("detail") or problem.get("message_en") or text
        return WitnessRefusal(f"refused by the ledger (账本拒绝联署): {status} {problem['rule']}: {detail}")
    return WitnessError(f"{status} from {method} {url}: {text}")
