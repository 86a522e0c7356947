"""The Data Products page in a real headless Chromium, signed in through Airflow's login page."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import ui_data
from airflow_server import USERS, AirflowServer
from cdp_browser import BrowserError, Chromium, chromium_path

pytestmark = pytest.mark.browser

#: screenshots kept for people to look at (the folder is ignored by git)
SCREENSHOTS = ui_data.REPO / ".lodestar" / "screenshots"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    if chromium_path() is None:
        pytest.fail(
            "headless Chromium is missing: apt-get install -y --no-install-recommends "
            "chromium fonts-dejavu-core",
            pytrace=False,
        )
    try:
        chromium = Chromium(tmp_path_factory.mktemp("chromium") / "profile")
    except BrowserError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield chromium
    chromium.close()


def sign_in(browser: Chromium, server: AirflowServer, user: str, next_path: str) -> None:
    """Through Airflow's own login form, as a person would."""
    browser.open(f"{server.url}{next_path}")
    browser.wait_for("location.pathname === '/auth/login'", 30, "the redirect to the login page")
    browser.wait_for("document.querySelector('input[name=password]') !== null", 30, "login form")
    browser.type_into("input[name=username]", user)
    browser.type_into("input[name=password]", USERS[user][1])
    browser.press_enter()
    browser.wait_for(f"location.pathname === {next_path!r}", 30, f"{next_path} after login")


def keep(shot: Path) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(shot, SCREENSHOTS / shot.name))


def test_product_page_shows_nsm_chart_and_business_tree(
    airflow_ui: AirflowServer, browser: Chromium, tmp_path: Path
) -> None:
    sign_in(browser, airflow_ui, "viewer", "/lodestar/products/product-affinity")
    browser.wait_for("document.querySelector('#north-star svg.lodestar-chart') !== null", 30)

    chart = browser.evaluate(
        """(() => {
          const svg = document.querySelector('#north-star svg.lodestar-chart');
          const box = svg.getBoundingClientRect();
          const line = svg.querySelector('polyline.series');
          return {
            width: Math.round(box.width), height: Math.round(box.height),
            vertices: line.getAttribute('points').trim().split(/\\s+/).length,
            lineLength: Math.round(line.getTotalLength()),
            ok: svg.querySelectorAll('circle.point.ok').length,
            off: svg.querySelectorAll('circle.point.off').length,
            target: svg.querySelector('text.target-label').textContent,
            targetDrawn: svg.querySelector('line.target').getBoundingClientRect().width > 100,
          };
        })()"""
    )
    tree = browser.evaluate(
        """(() => {
          const visible = (e) => e.getBoundingClientRect().height > 0;
          const count = (kind) => Array.from(
            document.querySelectorAll(`ul.tree li.node.${kind}`)).filter(visible).length;
          return {
            vision: count('vision'), goals: count('goal'), hypotheses: count('hypothesis'),
            initiatives: count('initiative'), useCases: count('use_case'),
            outputs: count('output'), inputs: count('input'),
            statuses: Array.from(document.querySelectorAll('ul.tree li.hypothesis .badge'))
              .map((b) => b.textContent),
          };
        })()"""
    )
    goal_charts = browser.evaluate(
        "document.querySelectorAll('#goals svg.lodestar-chart polyline.series').length"
    )
    shot = browser.screenshot(tmp_path / "product-affinity.png")
    keep(shot)

    assert chart["width"] > 400 and chart["height"] > 100
    assert chart["vertices"] == len(ui_data.PERIODS)
    assert chart["lineLength"] > 300
    assert (chart["ok"], chart["off"]) == (3, 6)
    assert chart["target"] == "target 0.6"
    assert chart["targetDrawn"]
    # 3 goals with one hypothesis and one initiative each; 4 use-case nodes (affinity-reports
    # under two hypotheses) with 5 + 5 + 2 + 5 outputs, which read 5 + 8 + 3 + 8 inputs
    assert tree == {
        "vision": 1,
        "goals": 3,
        "hypotheses": 3,
        "initiatives": 3,
        "useCases": 4,
        "outputs": 17,
        "inputs": 24,
        "statuses": ["supported", "unknown", "not-supported"],
    }
    assert goal_charts == 3
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000


def test_data_products_entry_in_airflows_navigation(
    airflow_ui: AirflowServer, browser: Chromium, tmp_path: Path
) -> None:
    browser.open(f"{airflow_ui.url}/plugin/data-products")
    browser.wait_for(
        "Array.from(document.querySelectorAll('nav a, a')).some("
        "(a) => a.textContent.includes('Data Products'))",
        60,
        "the Data Products entry in Airflow's navigation",
    )
    rows = browser.wait_for(
        """(() => {
          const frame = document.querySelector('iframe[title="Data Products"]');
          const doc = frame && frame.contentDocument;
          const rows = doc ? doc.querySelectorAll('table.products tbody tr') : [];
          return rows.length ? Array.from(rows).map((r) => r.dataset.product) : null;
        })()""",
        60,
        "the product list inside Airflow's frame",
    )
    shot = browser.screenshot(tmp_path / "data-products-in-airflow.png", full_page=False)
    keep(shot)

    assert rows == ["product-affinity", "retail-orders"]


def test_a_link_to_airflow_inside_the_frame_moves_airflow_itself(
    airflow_ui: AirflowServer, browser: Chromium
) -> None:
    browser.open(f"{airflow_ui.url}/plugin/data-products/lodestar/products/product-affinity")
    frame = "document.querySelector('iframe[title=\"Data Products\"]').contentDocument"
    browser.wait_for(f"{frame}.querySelector('a[data-airflow]') !== null", 60, "the framed page")

    browser.evaluate(f"{frame}.querySelector('a[data-airflow]').click()")

    browser.wait_for(
        "location.pathname === '/dags/product-affinity' && !document.querySelector('iframe')",
        30,
        "Airflow's own DAG view in its window",
    )
