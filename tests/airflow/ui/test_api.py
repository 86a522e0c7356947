"""The Data Products API and pages, served by a real Airflow api-server behind its auth manager."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import ui_data
from airflow_server import USERS, AirflowServer

pytestmark = pytest.mark.airflow

API = "/lodestar/api/v1"

#: the business chain of manifests/product-affinity.yaml, worked out by hand from the YAML:
#: goal -> (hypothesis, status, initiative, {use case: {output: inputs}})
AFFINITY_CHAIN = {
    "raise-attach-rate": (
        "fbt-raises-attach",
        "supported",
        "fbt-suggestions",
        {
            "fbt-recommendations": {
                "pair_rules": ["order_lines"],
                "period_rules": ["order_lines"],
                "order_attach": ["order_lines"],
                "cross_sell_recommendations": ["order_lines"],
                "nsm_history": ["order_lines"],
            },
            "affinity-reports": {
                "item_support": ["order_lines"],
                "pair_rules": ["order_lines"],
                "product_affinity_report": ["order_lines", "products"],
                "goal_measures": ["order_lines", "orders"],
                "hypothesis_status": ["order_lines", "orders"],
            },
        },
    ),
    "raise-basket-breadth": (
        "emails-raise-breadth",
        "unknown",
        "cross-sell-emails",
        {
            "cross-sell-campaigns": {
                "campaign_audiences": ["order_lines"],
                "goal_measures": ["order_lines", "orders"],
            },
        },
    ),
    "raise-revenue-per-order": (
        "bundles-raise-revenue",
        "not-supported",
        "bundle-offers",
        {
            "affinity-reports": {
                "item_support": ["order_lines"],
                "pair_rules": ["order_lines"],
                "product_affinity_report": ["order_lines", "products"],
                "goal_measures": ["order_lines", "orders"],
                "hypothesis_status": ["order_lines", "orders"],
            },
        },
    ),
}

#: what no response may ever contain
SECRETS = [
    ui_data.ARCHIVE_USER,
    ui_data.ARCHIVE_PASSWORD,
    ui_data.MARQUEZ_USER,
    ui_data.MARQUEZ_PASSWORD,
    *(password for _, password in USERS.values()),
    "lodestar-ui-test-secret-not-for-production",
    "lodestar-ui-test-key-not-for-production",
]


def get(server: AirflowServer, path: str, user: str | None = None) -> Any:
    response = server.request("GET", f"{API}{path}", user=user)
    assert response.status_code == 200, response.text
    return response.json()


def chain(node: dict[str, Any]) -> dict[str, Any]:
    """The tree below the vision, in the shape of AFFINITY_CHAIN."""
    found = {}
    for goal in node["children"]:
        assert goal["kind"] == "goal"
        (hypothesis,) = goal["children"]
        (initiative,) = hypothesis["children"]
        use_cases = {
            use_case["id"]: {
                output["id"]: [i["id"] for i in output["children"]]
                for output in use_case["children"]
            }
            for use_case in initiative["children"]
        }
        found[goal["id"]] = (hypothesis["id"], hypothesis["status"], initiative["id"], use_cases)
    return found


@pytest.mark.parametrize("path", ["/products", "/products/product-affinity"])
def test_an_unauthenticated_call_is_refused(airflow_ui: AirflowServer, path: str) -> None:
    response = airflow_ui.request("GET", f"{API}{path}")

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}


def test_an_invalid_token_is_refused(airflow_ui: AirflowServer) -> None:
    response = airflow_ui.request(
        "GET", f"{API}/products", headers={"Authorization": "Bearer not-a-jwt"}
    )

    assert response.status_code == 403
    assert "product-affinity" not in response.text


def test_the_list_shows_every_product_with_run_and_north_star(airflow_ui: AirflowServer) -> None:
    listing = get(airflow_ui, "/products", user="viewer")

    products = {p["name"]: p for p in listing["products"]}
    assert sorted(products) == ["product-affinity", "retail-orders"]
    affinity, orders = products["product-affinity"], products["retail-orders"]
    assert (affinity["domain"], affinity["type"]) == ("merchandising", "consumer-aligned")
    assert (orders["domain"], orders["type"]) == ("sales", "source-aligned")
    assert affinity["owners"] == [
        {"name": "Merchandising analytics", "email": "merch-analytics@example.com", "role": "owner"}
    ]
    assert (affinity["last_run"]["run_id"], affinity["last_run"]["state"]) == (
        ui_data.AFFINITY_RUN,
        "success",
    )
    assert (orders["last_run"]["run_id"], orders["last_run"]["state"]) == (
        ui_data.ORDERS_RUN,
        "failed",
    )
    assert affinity["last_run"]["url"] == f"/dags/product-affinity/runs/{ui_data.AFFINITY_RUN}"
    assert affinity["dag_url"] == "/dags/product-affinity"
    assert affinity["page_url"] == "/lodestar/products/product-affinity"
    nsm = affinity["north_star"]
    assert nsm["id"] == "cross-sell-attach-rate"
    assert (nsm["direction"], nsm["target"]) == ("increase", 0.6)
    assert (nsm["period"], nsm["value"], nsm["on_track"]) == ("2011-12", 0.605, True)
    assert nsm["gap"] == pytest.approx(0.005, abs=1e-12)
    # retail-orders contributes to the NSM product-affinity declares
    assert orders["north_star"] == {**nsm, "declared_by": "product-affinity"}


def test_manifest_errors_name_file_line_and_reason(airflow_ui: AirflowServer) -> None:
    placeholder = airflow_ui.request(
        "GET", "/api/v2/dags/lodestar_invalid_retail_returns", user="admin"
    )

    listing = get(airflow_ui, "/products", user="viewer")

    # whoever may read the broken manifest's placeholder DAG sees its errors
    assert placeholder.status_code == 200

    assert listing["errors"] == [
        {
            "file": ui_data.BROKEN_FILE,
            "line": ui_data.BROKEN_LINE,
            "column": 3,
            "field": "metadata.domian",
            "rule": "schema",
            "message": "unknown field 'domian'",
            "hint": "did you mean 'domain'?",
        }
    ]


def test_a_user_sees_only_products_whose_dag_they_may_read(airflow_ui: AirflowServer) -> None:
    listing = get(airflow_ui, "/products", user="sales")

    assert [p["name"] for p in listing["products"]] == ["retail-orders"]
    # the NSM is declared by a product sales may not read, and so are the broken manifest's errors
    assert listing["products"][0]["north_star"] is None
    assert listing["errors"] == []
    forbidden = airflow_ui.request("GET", f"{API}/products/product-affinity", user="sales")
    assert forbidden.status_code == 403
    assert "Cross-sell" not in forbidden.text


def test_an_unknown_product_is_not_found(airflow_ui: AirflowServer) -> None:
    response = airflow_ui.request("GET", f"{API}/products/retail-returns", user="admin")

    assert response.status_code == 404
    assert response.json() == {"detail": "no data product named 'retail-returns'"}


def test_the_product_shows_its_business_chain(airflow_ui: AirflowServer) -> None:
    detail = get(airflow_ui, "/products/product-affinity", user="viewer")

    tree = detail["tree"]
    assert tree["kind"] == "vision"
    assert tree["label"].startswith("Help every shopper find the products that belong together")
    assert chain(tree) == AFFINITY_CHAIN
    assert [(h["id"], h["status"], h["latest_value"]) for h in detail["hypotheses"]] == [
        ("fbt-raises-attach", "supported", 0.605),
        ("bundles-raise-revenue", "not-supported", 541.0),
        ("emails-raise-breadth", "unknown", None),
    ]


def test_the_product_shows_nsm_and_goal_histories(airflow_ui: AirflowServer) -> None:
    detail = get(airflow_ui, "/products/product-affinity", user="viewer")

    nsm = detail["north_star"]
    assert nsm["history"] == ui_data.history(ui_data.ATTACH_RATE)
    assert (nsm["value"], nsm["target"], nsm["on_track"]) == (0.605, 0.6, True)
    goals = {g["id"]: g for g in detail["goals"]}
    assert list(goals) == ["raise-attach-rate", "raise-basket-breadth", "raise-revenue-per-order"]
    assert goals["raise-basket-breadth"]["history"] == ui_data.history(ui_data.BASKET_BREADTH)
    assert goals["raise-revenue-per-order"]["history"] == ui_data.history(ui_data.REVENUE_PER_ORDER)
    assert [(g["latest"], g["target"], g["on_track"]) for g in goals.values()] == [
        (0.605, 0.6, True),
        (25.9, 28.0, False),
        (541.0, 550.0, False),
    ]
    assert detail["measures_published_at"] == ui_data.PUBLISHED_AT


def test_task_states_are_airflows_and_link_to_its_views(airflow_ui: AirflowServer) -> None:
    run = ui_data.AFFINITY_RUN
    airflow = airflow_ui.request(
        "GET", f"/api/v2/dags/product-affinity/dagRuns/{run}/taskInstances", user="admin"
    ).json()["task_instances"]

    detail = get(airflow_ui, "/products/product-affinity", user="viewer")

    tasks = {t["task_id"]: t for t in detail["tasks"]}
    assert {(t["task_id"], t["state"]) for t in airflow} == {
        (t["task_id"], t["state"]) for t in detail["tasks"]
    }
    assert len(tasks) == len(airflow) >= 5
    assert {t["state"] for t in detail["tasks"]} == {"success"}
    assert tasks["publish_measures"]["url"] == (
        f"/dags/product-affinity/runs/{run}/tasks/publish_measures"
    )
    # marking the run failed makes Airflow skip the tasks that had not run
    orders = get(airflow_ui, "/products/retail-orders", user="sales")
    assert {t["task_id"]: t["state"] for t in orders["tasks"]} == {
        "check_inputs": "success",
        "ingest": "failed",
        "checks": "skipped",
        "publish_measures": "skipped",
    }


def test_datasets_carry_lineage_names_and_marquez_links(airflow_ui: AirflowServer) -> None:
    lake = airflow_ui.env["LODESTAR_LAKE_ROOT"]
    warehouse = Path(airflow_ui.env["LODESTAR_WAREHOUSE"]).resolve()

    detail = get(airflow_ui, "/products/product-affinity", user="viewer")

    datasets = {(d["side"], d["name"]): d for d in detail["datasets"]}
    pair_rules = datasets[("output", "pair_rules")]
    name = f"{lake}/product-affinity/pair_rules"
    assert (pair_rules["namespace"], pair_rules["dataset"]) == ("file", name)
    assert pair_rules["marquez_url"] == (
        f"http://127.0.0.1:3000/lineage/dataset/file/{quote(name, safe='')}"
    )
    nsm_history = datasets[("output", "nsm_history")]
    assert (nsm_history["namespace"], nsm_history["dataset"]) == (
        f"duckdb://{warehouse}",
        "product_affinity.nsm_history",
    )
    order_lines = datasets[("input", "order_lines")]
    assert order_lines["upstream_product"] == "retail-orders"
    assert order_lines["dataset"] == f"{lake}/retail-orders/order_lines"
    assert len(datasets) == 3 + 10


def test_credentials_in_an_input_uri_are_never_shown(airflow_ui: AirflowServer) -> None:
    response = airflow_ui.request("GET", f"{API}/products/retail-orders", user="admin")

    detail = response.json()
    source = next(d for d in detail["datasets"] if d["name"] == "online_retail")
    # NOTE: the naming rule drops credentials from lineage names; the UI masks what is left
    assert (source["namespace"], source["dataset"]) == (
        "s3://retail-archive",
        "online_retail.parquet",
    )
    assert source["marquez_url"] == (
        "http://127.0.0.1:3000/lineage/dataset/s3%3A%2F%2Fretail-archive/online_retail.parquet"
    )
    inputs = [n for n in _nodes(detail["tree"]) if n["kind"] == "input"]
    assert {n["detail"] for n in inputs} == {"s3a://***@retail-archive/online_retail.parquet"}


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for c in node["children"] for n in _nodes(c))]


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/products",
        f"{API}/products/product-affinity",
        f"{API}/products/retail-orders",
        "/lodestar/",
        "/lodestar/products/product-affinity",
        "/lodestar/products/retail-orders",
        "/lodestar/openapi.json",
        "/lodestar/api",
    ],
)
def test_no_secret_in_any_response(airflow_ui: AirflowServer, path: str) -> None:
    token = airflow_ui.token("admin")
    response = airflow_ui.request("GET", path, cookies={"_token": token})

    assert response.status_code == 200
    leaked = [s for s in SECRETS if s in response.text]
    assert leaked == []
    assert token not in response.text


@pytest.mark.parametrize(
    "path", ["/lodestar/", "/lodestar/products/product-affinity", "/lodestar/api"]
)
def test_pages_load_nothing_from_another_host(airflow_ui: AirflowServer, path: str) -> None:
    page = airflow_ui.request("GET", path, cookies={"_token": airflow_ui.token("viewer")})
    assets = re.findall(r'<(?:script|img|link)\b[^>]*?(?:src|href)="([^"]+)"', page.text)

    assert page.status_code == 200
    assert sorted(set(assets)) == [
        "/lodestar/static/icon.svg",
        "/lodestar/static/lodestar.css",
        "/lodestar/static/lodestar.js",
    ]
    for asset in assets:
        assert airflow_ui.request("GET", asset).status_code == 200


def test_a_page_without_sign_in_goes_to_airflows_login(airflow_ui: AirflowServer) -> None:
    response = airflow_ui.request("GET", "/lodestar/products/product-affinity")

    assert response.status_code == 303
    assert response.headers["location"] == (
        "/auth/login?next=%2Flodestar%2Fproducts%2Fproduct-affinity"
    )


def test_the_page_renders_for_a_signed_in_user(airflow_ui: AirflowServer) -> None:
    cookies = {"_token": airflow_ui.token("viewer")}

    page = airflow_ui.request("GET", "/lodestar/products/product-affinity", cookies=cookies)
    forbidden = airflow_ui.request(
        "GET", "/lodestar/products/product-affinity", cookies={"_token": airflow_ui.token("sales")}
    )

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    north_star = page.text.split('id="north-star"', 1)[1].split("</svg>", 1)[0]
    # 0.611, 0.627 and 0.605 meet the target of 0.6; the six months before do not
    assert (north_star.count('class="point ok"'), north_star.count('class="point off"')) == (3, 6)
    assert "target 0.6</text>" in north_star
    assert page.text.count('class="node hypothesis"') == 3
    assert forbidden.status_code == 403
    assert "Not allowed" in forbidden.text


def test_manifest_text_is_shown_as_text(airflow_ui: AirflowServer) -> None:
    cookies = {"_token": airflow_ui.token("viewer")}

    page = airflow_ui.request("GET", "/lodestar/products/retail-orders", cookies=cookies)
    detail = get(airflow_ui, "/products/retail-orders", user="viewer")

    assert detail["purpose"].startswith(ui_data.MARKUP)
    assert ui_data.MARKUP not in page.text
    assert "&lt;script&gt;alert(&#39;lodestar&#39;)&lt;/script&gt;" in page.text


def test_the_api_is_documented_by_its_openapi_schema(airflow_ui: AirflowServer) -> None:
    schema = airflow_ui.request("GET", "/lodestar/openapi.json").json()

    assert schema["servers"] == [{"url": "/lodestar"}]
    assert sorted(schema["paths"]) == ["/api/v1/products", "/api/v1/products/{name}"]
    listing = schema["paths"]["/api/v1/products"]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProductList"
    }
    assert {"401", "403"} <= set(listing["responses"])
    detail = schema["components"]["schemas"]["ProductDetail"]
    assert detail["properties"]["tree"]["description"] == "The business chain as a tree."
    assert "TreeNode" in schema["components"]["schemas"]


def test_the_plugin_adds_a_data_products_entry_to_airflows_navigation(
    airflow_ui: AirflowServer,
) -> None:
    plugins = airflow_ui.request("GET", "/api/v2/plugins", user="viewer").json()["plugins"]

    (lodestar,) = [p for p in plugins if p["name"] == "lodestar"]
    assert [(a["name"], a["url_prefix"]) for a in lodestar["fastapi_apps"]] == [
        ("Lodestar data products", "/lodestar")
    ]
    (view,) = lodestar["external_views"]
    assert (view["name"], view["href"], view["url_route"], view["nav_top_level"]) == (
        "Data Products",
        "/lodestar/",
        "data-products",
        True,
    )
    icon = airflow_ui.request("GET", view["icon"])
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
