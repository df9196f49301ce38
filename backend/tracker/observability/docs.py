"""The API's interactive docs (Swagger UI), served from a pinned package instead of a CDN.

The page's script and styles come from the `fastapi-offline` wheel, whose version the lock
file pins, under /api/docs/assets/: nothing is fetched from another origin, so there is no
third-party script to trust. Public while `api_docs_public` allows it (by default everywhere
but production); otherwise /api/docs does not exist.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from tracker.config import Settings

DOCS_PATH = "/api/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
_ASSETS = Path(str(files("fastapi_offline") / "static"))


def install_docs(app: FastAPI, settings: Settings) -> None:
    if not settings.docs_public:
        return

    async def swagger_ui(_request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/api/openapi.json",
            title=f"{app.title} — docs",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
        )

    app.mount(ASSETS_PATH, StaticFiles(directory=_ASSETS), name="docs-assets")
    app.add_route(DOCS_PATH, swagger_ui, include_in_schema=False)
