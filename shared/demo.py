"""Demo data for `make run --demo`: a slice of the seed county (桂阳县, 431021) through the real APIs."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

COUNTY = "431021"


def post(url: str, body: dict[str, Any], token: str, attempts: int = 5) -> dict[str, Any]:
    """POST JSON with a bearer token and return the JSON answer; raise with the problem document on error.

    A 429 (the per-principal rate limit) is retried after its Retry-After, as any client should.
    """
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    retries = attempts - 1
    while True:
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return dict(json.loads(resp.read()))
        except urllib.error.HTTPError as exc:
            if exc.code != 429 or retries <= 0:
                raise RuntimeError(f"{exc.code} from {url}: {exc.read().decode(errors='replace')}") from exc
            retries -= 1
            time.sleep(float(exc.headers.get("Retry-After", "1")))


def load_demo(urls: dict[str, str], token: str, cadres: int = 40, seed: int = 431021,
              rotation_cadres: int = 400) -> int:
    """Record the demo county through every service's API (`urls`: the rotation and audit services, and the
    assessment service's too for its part); returns events recorded.

    `token` must carry the recorder role for county 431021. `cadres`: cadres with an audit;
    `rotation_cadres`: cadres whose careers the rotation service records. The cadres the audit and assessment
    demos record facts about are registered first, as every service requires.
    """
    from shared import demo_assessment, demo_audit
    from shared.demo_rotation import load_rotation_demo, register_cadres

    def send(url: str, body: dict[str, Any]) -> dict[str, Any]:
        return post(url, body, token)

    careers = load_rotation_demo(urls["rotation"], send, rotation_cadres, seed)
    others = demo_audit.cadre_ids(cadres) + (demo_assessment.cadre_ids() if "assessment" in urls else [])
    registered = register_cadres(urls["rotation"], send, others, seed)
    audits = demo_audit.load_audit_demo(urls["audit"], send, cadres=cadres, seed=seed)
    assessments = demo_assessment.load_assessment_demo(urls, send, seed=seed) if "assessment" in urls else 0
    return careers + registered + audits + assessments
