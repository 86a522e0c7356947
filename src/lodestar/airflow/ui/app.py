"""The Data Products app: JSON API, HTML pages and bundled static files, mounted by the plugin
into Airflow's api-server, behind Airflow's authentication and authorisation."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import HTTPException
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from lodestar.airflow.ui import api, pages
from lodestar.airflow.ui.access import login_url
from lodestar.airflow.ui.view import UiState, links_for
from lodestar.settings import load_settings

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
URL_PREFIX = "/lodestar"

DESCRIPTION = (
    "Data products of the Lodestar manifests: their business chain (vision, goals, hypotheses, "
    "initiatives, use cases, outputs, inputs), North Star Metric and goal measures, and the "
    "state of their latest Airflow run. Authentication and authorisation are Airflow's: send "
    "the api-server's JWT as a bearer token (or the UI's session cookie); a product is listed "
    "only for users who may read its DAG."
)


async def _http_error(request: Request, exc: Exception) -> Response:
    """API errors stay JSON; a page asked for without a valid sign-in goes to Airflow's login."""
    assert isinstance(exc, HTTPException)
    prefix: str = request.app.state.lodestar_prefix
    root = str(request.scope.get("root_path", "")) or prefix
    route = request.url.path.removeprefix(root)
    if route.startswith(api.API_PREFIX) or route.startswith("/static"):
        return await http_exception_handler(request, exc)
    if exc.status_code == 401 or (exc.status_code == 403 and "token" in str(exc.detail).lower()):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(login_url(target), status_code=303)
    links = links_for(request, prefix, load_settings())
    titles = {403: "Not allowed", 404: "Not found"}
    return pages.templates.TemplateResponse(
        request,
        "error.html",
        {
            "links": links,
            "status": exc.status_code,
            "title": titles.get(exc.status_code, "Error"),
            "message": str(exc.detail),
        },
        status_code=exc.status_code,
    )


def create_app(prefix: str = URL_PREFIX) -> FastAPI:
    """The app to mount at ``prefix`` in Airflow's api-server."""
    app = FastAPI(
        title="Lodestar data products",
        description=DESCRIPTION,
        version="1",
        # NOTE: FastAPI's Swagger and ReDoc pages load their scripts from a CDN; the page
        # works offline, so the API is described by pages.api_page from the schema instead
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.lodestar = UiState()
    app.state.lodestar_prefix = prefix
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(HTTPException, _http_error)
    log.info("Lodestar data products app ready under %s", prefix)
    return app
