"""Reads over HTTP as auditors make them: a cadre's history, its state on a date, inclusion proofs."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from bench.http_client import HttpConnection
from bench.ingest import percentile
from shared.merkle import verify_inclusion


@dataclass
class ReadLatency:
    """Sequential requests from one client over a kept-alive connection, ms."""

    requests: int
    p50: float
    p99: float
    per_s: float
    events_per_response: float


async def read_latency(base: str, auth: dict[str, str], cadres: list[str], requests: int, path: str,
                       seed: int = 1) -> ReadLatency:
    """GET `base + path.format(cadre)` for random cadres; every answer must be a 200."""
    rng = random.Random(seed)
    times: list[float] = []
    sizes = 0
    async with await HttpConnection.open(base, auth) as http:
        for cadre in rng.choices(cadres, k=min(20, requests)):  # warm the caches
            await http.request("GET", path.format(cadre=cadre))
        began = time.perf_counter()
        for cadre in rng.choices(cadres, k=requests):
            t0 = time.perf_counter()
            answer = await http.request("GET", path.format(cadre=cadre))
            # The answer's latency ends with its last byte; checking it is the client's own work.
            times.append((time.perf_counter() - t0) * 1000)
            body = answer.json()
            if answer.status != 200:
                raise RuntimeError(f"GET {path} answered {answer.status}: {body}")
            sizes += len(body.get("events", [])) if isinstance(body.get("events"), list) else int(body["events"])
        elapsed = time.perf_counter() - began
    return ReadLatency(requests, percentile(times, 0.5), percentile(times, 0.99), requests / elapsed,
                       sizes / requests)


@dataclass
class Proofs:
    """Inclusion proofs fetched over HTTP and checked against the signed root."""

    proofs: int
    tree_size: int
    per_s: float
    p99_ms: float
    check_per_s: float


async def inclusion_proofs(base: str, auth: dict[str, str], count: int, seed: int = 2) -> Proofs:
    """GET /v1/proofs/inclusion for random positions under the latest checkpoint; verify each."""
    rng = random.Random(seed)
    async with await HttpConnection.open(base, auth) as http:
        answer = await http.request("POST", "/v1/checkpoints")
        checkpoint = answer.json()
        if answer.status not in (200, 201):
            raise RuntimeError(f"POST /v1/checkpoints answered {answer.status}: {checkpoint}")
        size, root = int(checkpoint["size"]), bytes.fromhex(checkpoint["root"])
        fetched: list[tuple[bytes, int, list[bytes]]] = []
        times: list[float] = []
        began = time.perf_counter()
        for _ in range(count):
            position = rng.randint(1, size)
            t0 = time.perf_counter()
            answer = await http.request("GET", f"/v1/proofs/inclusion?position={position}&size={size}")
            proof = answer.json()
            if answer.status != 200:
                raise RuntimeError(f"inclusion proof answered {answer.status}: {proof}")
            item = (bytes.fromhex(proof["leaf_hash"]), position - 1, [bytes.fromhex(h) for h in proof["proof"]])
            verify_inclusion(item[0], item[1], size, item[2], root)
            times.append((time.perf_counter() - t0) * 1000)
            fetched.append(item)
        elapsed = time.perf_counter() - began
    checks = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 0.5:
        for leaf, index, path in fetched:
            verify_inclusion(leaf, index, size, path, root)
        checks += len(fetched)
    return Proofs(count, size, count / elapsed, percentile(times, 0.99), checks / (time.perf_counter() - t0))
