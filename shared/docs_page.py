"""The /docs page: Swagger UI over /openapi.json, from assets vendored in the package (no CDN).

The assets (shared/static/swagger-ui/) come unchanged from the npm package swagger-ui-dist
(Apache-2.0; LICENSE and NOTICE beside them) and are served at /docs/static/.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static" / "swagger-ui"
STATIC_PATH = "/docs/static"

_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API</title>
<link rel="stylesheet" href="{static}/swagger-ui.css">
<style>body{{margin:0}} .cadre-top{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;padding:.6rem 1.2rem;
background:#1b2a41;color:#fff}} .cadre-top a{{color:#9cc3ff}}</style>
</head><body>
<div class="cadre-top">接口文档 / API reference — {title}. Machine-readable:
<a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</div>
<div id="swagger-ui"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script src="{static}/docs-init.js"></script>
</body></html>"""


def docs_html(title: str) -> str:
    """HTML of the docs page for a service titled `title`."""
    return _PAGE.format(title=escape(title), static=STATIC_PATH)
