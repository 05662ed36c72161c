"""GET /dashboard — the finance dashboard: static files served by the gateway, no CDN.

The page itself holds no data and is served without a key; it asks for the finance (or admin)
key, keeps it in the tab's sessionStorage, and sends it as a bearer token to `/admin/reports`,
which enforces the role. A strict Content-Security-Policy keeps every byte on this origin.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

router = APIRouter()

_FILES = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "chart.umd.js": "text/javascript; charset=utf-8",
}
_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "cache-control": "no-cache",
}


def _read(name: str) -> bytes:
    return resources.files("gateway.dashboard").joinpath(name).read_bytes()


@router.get("/dashboard", include_in_schema=False)
async def dashboard() -> Response:
    """The dashboard page."""
    return Response(_read("index.html"), media_type="text/html; charset=utf-8", headers=_HEADERS)


@router.get("/dashboard/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    """One of the page's bundled assets (a fixed list: no path traversal possible)."""
    media_type = _FILES.get(name)
    if media_type is None:
        raise HTTPException(404, f"No dashboard asset named '{name}'.")
    return Response(_read(name), media_type=media_type, headers=_HEADERS)
