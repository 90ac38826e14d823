"""Full-ledger verification (全账本验证) against PostgreSQL.

`verify_ledger` reads the ledger in one read-only, repeatable-read transaction. It trusts nothing
stored except the signed checkpoint notes, checked with public keys the auditor brings:

- every row: positions run 1..n without gaps; SHA-256(0x00 || canonical) equals the stored leaf
  hash; the query columns (event id, cadre, county, type, date, rule set) say what the hashed
  envelope says (the envelope is stored once, as those bytes: there is no copy to compare);
- every cadre: versions run 1..n in position order and each prev_hash is the leaf hash of the
  cadre's previous event, recomputed from its bytes;
- the Merkle log: the tree is rebuilt from the recomputed leaf hashes, its root is compared with
  every signed checkpoint at that checkpoint's size, and every stored node in `merkle_nodes` is
  compared with the rebuilt tree (a full comparison, not a spot check);
- every checkpoint: its note verifies with a given key and its body states the row's (origin, size,
  root); no two signed checkpoints give one size two roots (a fork); cosigned notes keep the body.

Someone who rewrites rows, hashes, chains and `merkle_nodes` consistently is still caught, because
the roots are recomputed from the rows and compared with notes only the key holder can sign. Rows
appended after the last checkpoint are reported as not yet covered: they are checked, but no
signature vouches for them yet.

How (two paths, one answer; the coordinator is `ledger`). First the ledger is checked by ranges
(`ranges`, `merge`): runs of 2**k positions aligned on subtree boundaries, each fetched in two queries
(its rows; its stored nodes, one byte string per level) and checked in bulk, in worker processes
(`parallel`, `worker`) that import the coordinator's exported snapshot so all of them read one ledger,
then joined in position order (chains across ranges, the tree above them, roots against checkpoints). Each range's
positions, and its stored nodes level by level, must be exactly the expected ones (counted, not just
compared as a concatenation); index probes find any row or node outside all ranges, so no extra one
is left unread. If that finds everything as a sound ledger has it, the ledger verifies. If anything
differs, or the checkpoints already filled the findings, the row-by-row scan (`rowscan`) runs over
the same snapshot and words every finding, so findings never depend on the faster path: that path
only decides that there is nothing to report.

What PostgreSQL is trusted with: nothing but handing over what it stores. The verifier recomputes
every leaf hash, every interior node, every chain link and every root itself, in Python, from the
canonical bytes, and reads those bytes itself to compare the query columns with the fields they
repeat (`fields`); PostgreSQL only hands over rows in position order and concatenates nodes per
level. That cannot hide a row: positions come back and must be exactly the range, node counts per
level must be exactly the range's, and nothing may lie outside the ranges.

Memory: a range's rows (at most 2**13) at a time per worker, the chain head of every cadre, the
tree's frontier and the checkpoints; never the whole ledger.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.verify.ledger import external_checkpoint, verify_ledger
    from shared.verify.report import Finding, Progress, VerifyReport

__all__ = ["Finding", "Progress", "VerifyReport", "external_checkpoint", "verify_ledger"]

_FROM = {"verify_ledger": "ledger", "external_checkpoint": "ledger", "Finding": "report", "Progress": "report",
         "VerifyReport": "report"}


def __getattr__(name: str) -> object:
    """The coordinator's names, imported on first use (PEP 562).

    Every range worker (`python -m shared.verify.worker`) imports this package before its own module, and needs
    none of the coordinator's: signed notes and their keys, checkpoints, the merge, the row-by-row scan. Imported
    here eagerly, they were about a third of a worker's start-up (200 against 130 ms of CPU, each worker, each
    verification, while the coordinator verifies the checkpoints on the same cores).
    """
    if name not in _FROM:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_FROM[name]}"), name)
