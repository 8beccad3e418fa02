"""The built front end: the one HTML page for every console route, hashed assets, and the
security headers every answer of the console carries."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.errors import NotFound

# Nothing from another origin, no inline script or style, no eval, no HTML written from script
# (Trusted Types: `innerHTML =` throws, so hostile text can only ever be text). The one policy
# allowed, "lifeline-worker", creates script URLs only, and only the built upload worker's own
# hashed path (`src/identity/worker-client.ts`): `new Worker(url)` is a Trusted Types sink. It
# has no createHTML or createScript, and a second policy of that name cannot be made.
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types lifeline-worker",
    ]
)
# The API documents' page (Swagger UI): still nothing from another origin and no inline script,
# but Swagger UI renders the documents' Markdown as HTML and styles elements inline.
DOCS_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ]
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
# The console's own pages: each is the same HTML, the front end's router picks the view.
PAGES = (
    "/",
    "/enrol",
    "/alerts",
    "/alerts/{alert_id}",
    "/settings",
    "/signin",
    "/admin",
    "/admin/partners",
    "/admin/partners/{partner_id}",
    "/admin/clients/{client_id}",
    "/reports",
    "/reports/new",
    "/reports/releases",
    "/reports/upload",
    "/admin/policies",
    "/admin/policies/{partner_id}",
    "/admin/audit",
    "/admin/seizures",
    "/admin/seizures/{seizure_id}",
    "/admin/approvals",
    "/admin/approvals/{approval_id}",
    "/admin/vault",
)
DOCS_PAGES = ("/docs", "/docs/sharing", "/docs/alerts", "/docs/intake")
_ASSET = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.(js|css|svg|png|woff2|map)$")
_NOT_BUILT = (
    "<!doctype html><title>Lifeline console</title>"
    "<p>The console has not been built: run <code>make install</code>.</p>"
)


class SecurityHeaders:
    """Adds the headers above to every answer that does not set its own (the proxied ack page
    keeps the alerts service's policy)."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.extra = dict(SECURITY_HEADERS)
        if https:
            self.extra["strict-transport-security"] = "max-age=63072000; includeSubDomains"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap `send` to add the headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [
                    (k.encode(), v.encode())
                    for k, v in self.extra.items()
                    if k.encode() not in have
                ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def built(assets_dir: Path) -> bool:
    """Whether the front end has been built into `assets_dir`."""
    return (assets_dir / "index.html").is_file()


def assets_router(assets_dir: Path) -> APIRouter:
    """The page routes and `/assets/<file>`."""
    router = APIRouter(include_in_schema=False)

    async def page() -> Response:
        index = assets_dir / "index.html"
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503)
        # Always revalidated: a new build's page names new asset files.
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    for path in PAGES:
        router.add_api_route(path, page, methods=["GET"])

    async def docs() -> Response:
        """Swagger UI for one service's OpenAPI document (read through the proxy)."""
        docs_page = assets_dir / "docs.html"
        if not docs_page.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503)
        headers = {"Cache-Control": "no-cache", "Content-Security-Policy": DOCS_CSP}
        return FileResponse(docs_page, media_type="text/html", headers=headers)

    for path in DOCS_PAGES:
        router.add_api_route(path, docs, methods=["GET"])

    @router.get("/assets/{name}")
    async def asset(name: str) -> Response:
        """A built file; its name carries its content hash, so it may be cached for ever."""
        file = assets_dir / "assets" / name
        if not _ASSET.fullmatch(name) or not file.is_file():
            raise NotFound("no such asset")
        return FileResponse(file, headers={"Cache-Control": "public, max-age=31536000, immutable"})

    return router
