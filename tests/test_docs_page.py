"""/docs: Swagger UI from assets vendored in the package, nothing fetched from elsewhere."""

from __future__ import annotations

import re

import pytest

from shared.docs_page import STATIC_DIR
from shared.processes import SERVICES
from tests.support import System, call

CONTENT_TYPES = {".js": ("application/javascript", "text/javascript"), ".css": ("text/css",)}


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
async def test_docs_reference_only_local_assets_and_they_are_served(system: System, service: str) -> None:
    if service not in system.procs:
        system.start_service(service)
    base = system.url(service)
    status, html, headers = await call("GET", f"{base}/docs")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {"/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css", "/docs/static/docs-init.js",
            "/openapi.json"} <= set(assets)
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset
        status, body, headers = await call("GET", f"{base}{asset}")
        assert status == 200, asset
        suffix = asset[asset.rfind("."):]
        if suffix in CONTENT_TYPES:
            assert headers["Content-Type"].split(";")[0] in CONTENT_TYPES[suffix], (asset, headers["Content-Type"])
            assert body == (STATIC_DIR / asset.rsplit("/", 1)[1]).read_text()
    status, _, _ = await call("GET", f"{base}/docs/static/../../settings.py")
    assert status == 404  # the static route serves only its own directory


def test_vendored_assets_keep_their_license_and_call_nothing_outside() -> None:
    assert "Apache License" in (STATIC_DIR / "LICENSE").read_text()
    init = (STATIC_DIR / "docs-init.js").read_text()
    assert "validatorUrl: null" in init and "url: '/openapi.json'" in init
