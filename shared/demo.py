"""Demo data for `make run --demo`: a slice of the seed county (桂阳县, 431021) through the real APIs."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from datetime import date, timedelta
from typing import Any

COUNTY = "431021"


def post(url: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    """POST JSON with a bearer token and return the JSON answer; raise with the problem document on error."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return dict(json.loads(resp.read()))
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{exc.code} from {url}: {exc.read().decode(errors='replace')}") from exc


def load_demo(urls: dict[str, str], token: str, cadres: int = 40, seed: int = 431021) -> int:
    """Record a departure or in-office audit for each of `cadres` demo cadres; returns events recorded.

    `token` must carry the recorder role for county 431021.
    """
    rng = random.Random(seed)
    count = 0
    for n in range(1, cadres + 1):
        cadre_id = f"GY{n:04d}"
        day = date(2016, 1, 1) + timedelta(days=rng.randrange(0, 3000))
        findings = [{"finding_id": f"F{k}", "category": rng.randint(1, 20),
                     "amount": f"{rng.randint(0, 500000)}.{rng.randint(0, 99):02d}",
                     "responsibility": rng.choice(["direct", "leadership"])} for k in range(rng.randint(0, 3))]
        post(f"{urls['audit']}/v1/audits/SJ-{day.year}-{n:03d}/complete?wait=committed", {
            "cadre_id": cadre_id, "county": COUNTY, "occurred_on": day.isoformat(),
            "audit_type": rng.choice(["departure", "in_office"]), "report_number": f"桂审经责〔{day.year}〕{n}号",
            "evaluation": rng.choice(["good", "fairly_good", "average", "poor"]), "findings": findings}, token)
        count += 1
    return count
