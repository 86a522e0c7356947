"""The HTML pages: the product list and one page per product, rendered on the server.

Charts are inline SVG from :mod:`lodestar.airflow.ui.charts`; the tree is nested ``<details>``;
the one small script only sends links to Airflow's views to the Airflow window around the frame.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from lodestar.airflow.ui.charts import HEIGHT, WIDTH, fmt, line_chart
from lodestar.airflow.ui.models import Point
from lodestar.airflow.ui.view import ViewDep, links_for
from lodestar.manifest.model import Direction
from lodestar.settings import load_settings

TEMPLATES = Path(__file__).parent / "templates"

#: human names of the links of the chain, shown in front of each tree node
KIND_LABELS = {
    "vision": "Vision",
    "goal": "Goal",
    "hypothesis": "Hypothesis",
    "initiative": "Initiative",
    "use_case": "Use case",
    "output": "Output",
    "input": "Input",
}
ARROWS = {"increase": "\u2191", "decrease": "\u2193", "maintain": "\u2194"}


def chart(
    points: list[Point],
    title: str,
    target: float | None,
    direction: str,
    unit: str = "",
    small: bool = False,
) -> Markup:
    """One chart; ``small`` ones (goal cards) get a narrower canvas so their text stays legible."""
    width, height = (420, 210) if small else (WIDTH, HEIGHT)
    svg = line_chart(
        points,
        title=title,
        target=target,
        direction=Direction(direction),
        unit=unit,
        width=width,
        height=height,
    )
    # NOTE: every text inside the SVG is escaped by line_chart
    return Markup(svg)


def number(value: float | None) -> str:
    return "\u2013" if value is None else fmt(value)


def track_class(on_track: bool | None) -> str:
    return "unknown" if on_track is None else ("ok" if on_track else "off")


def when(value: datetime | None) -> str:
    return "\u2013" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES)
    env = templates.env
    env.globals.update(chart=chart, kind_labels=KIND_LABELS, arrows=ARROWS)
    env.filters.update(number=number, track=track_class, when=when)
    return templates


templates = _templates()
router = APIRouter(include_in_schema=False)


def _render(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context)


@router.get("/", response_class=HTMLResponse)
def products_page(request: Request, view: ViewDep) -> HTMLResponse:
    listing = view.product_list()
    return _render(
        request,
        "products.html",
        {"links": view.links, "products": listing.products, "errors": listing.errors},
    )


@router.get("/api", response_class=HTMLResponse)
def api_page(request: Request) -> HTMLResponse:
    """The API described from its OpenAPI schema (public, like the schema itself)."""
    prefix: str = request.app.state.lodestar_prefix
    links = links_for(request, prefix, load_settings())
    schema = request.app.openapi()
    operations = [
        {"method": method.upper(), "path": path, **operation}
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    return _render(
        request,
        "api.html",
        {"links": links, "info": schema["info"], "operations": operations},
    )


@router.get("/products/{name}", response_class=HTMLResponse)
def product_page(request: Request, name: str, view: ViewDep) -> HTMLResponse:
    detail = view.product_detail(name)
    return _render(request, "product.html", {"links": view.links, "p": detail})
