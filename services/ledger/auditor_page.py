"""The auditor web page (干部履历审阅) at `/`: static HTML, CSS and JavaScript from services/ledger/web/.

The page calls the ledger's own read API with the auditor's bearer token, so it needs no route of
its own beyond the files; the Content-Security-Policy keeps it from loading anything from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

WEB_DIR = Path(__file__).parent / "web"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def add_auditor_page(app: web.Application) -> None:
    """Serve the page at `/` and its assets under `/web/`."""

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(WEB_DIR / "index.html", headers={
            "Content-Security-Policy": CSP, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})

    app.router.add_get("/", index)
    app.router.add_static("/web", WEB_DIR, append_version=False)
