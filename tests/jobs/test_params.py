"""The job parameters: what the Airflow layer writes parses; every mistake is named."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from lodestar.errors import JobError
from lodestar.jobs.params import (
    Interval,
    ParamsError,
    Thresholds,
    load_affinity,
    parse_affinity,
    parse_ingest,
)

from .conftest import RETAIL_COLUMNS, affinity_params, ingest_params, retail_source

pytestmark = pytest.mark.unit


def manifest_style_ingest(tmp_path: Path) -> dict[str, Any]:
    """As lodestar.plan.spark_params writes it: every csv key and every column key present."""
    source = retail_source()
    source["csv"] = {
        "header": True,
        "delimiter": ",",
        "quote": '"',
        "line_separator": None,
        "encoding": "UTF-8",
    }
    source["columns"] = {**RETAIL_COLUMNS, "description": None}
    return ingest_params(tmp_path, source)


def test_ingest_params_as_the_plan_writes_them(tmp_path: Path) -> None:
    params = parse_ingest(manifest_style_ingest(tmp_path))

    assert params.source.format == "parquet"
    assert params.source.columns is not None
    assert params.source.columns.description is None
    assert params.source.columns.mapped()["quantity"] == "Quantity"
    assert params.source.csv.escape is None
    assert params.rules.non_product_codes[-1] == "BANK CHARGES"
    assert params.rules.max_rejected_share == 0.10
    assert params.outputs["quarantine"].endswith("/retail-orders/quarantine")
    assert params.stats_path == tmp_path / "stats" / "retail-orders" / "ingest.json"


def test_affinity_params_with_defaults(tmp_path: Path) -> None:
    data = affinity_params(tmp_path, "/lake/ol", {"min_support_count": 20})
    for key in ("oversize_policy", "period", "trailing_periods"):
        del data[key]

    params = parse_affinity(data)

    assert params.thresholds == Thresholds(min_support_count=20)
    assert (params.oversize_policy, params.period, params.trailing_periods) == (
        "exclude",
        "month",
        3,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p["thresholds"].update(min_suport=0.1),
            "thresholds.min_suport: unknown key (did you mean 'min_support'?)",
        ),
        (
            lambda p: p.update(max_basket_size="500"),
            "max_basket_size: expected an integer, got str '500'",
        ),
        (
            lambda p: p.update(oversize_policy="drop"),
            "oversize_policy: 'drop' is not one of exclude, keep, fail",
        ),
        (
            lambda p: p["thresholds"].update(min_confidence=1.5),
            "thresholds.min_confidence: 1.5 must be between 0.0 and 1.0",
        ),
        (lambda p: p["outputs"].pop("pair_rules"), "outputs.pair_rules: is required"),
        (
            lambda p: p.update(interval={"start": "2011-01-15", "end": "2011-02-01"}),
            "interval.start: '2011-01-15' is not the start of a month",
        ),
        (
            lambda p: p.update(interval={"start": "2011-02-01", "end": "2011-01-01"}),
            "interval.end: must be after start",
        ),
        (
            lambda p: p.update(
                interval={"start": "2011-01-01T00:00:00+01:00", "end": "2011-02-01"}
            ),
            "has a time-zone offset",
        ),
    ],
)
def test_affinity_mistakes_are_named(tmp_path: Path, change: Any, message: str) -> None:
    data = affinity_params(tmp_path, "/lake/ol", {"min_support": 0.01})
    change(data)

    with pytest.raises(ParamsError) as error:
        parse_affinity(data, origin="params.json")

    assert str(error.value).startswith("params.json: ")
    assert message in str(error.value)
    assert isinstance(error.value, JobError)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s["columns"].pop("order_id"),
            "source.columns.order_id: is required",
        ),
        (
            lambda s: s["columns"].pop("quantity"),
            "source.columns.quantity: is required when quantity_mode is 'column'",
        ),
        (
            lambda s: s.pop("timestamp_format"),
            "source.timestamp_format: is required because columns.ordered_at names",
        ),
        (lambda s: s.update(format="xlsx"), "source.format: 'xlsx' is not one of"),
        (
            lambda s: s.update(csv={"delimiter": ";;"}),
            "source.csv.delimiter: expected one character, got ';;'",
        ),
        (
            lambda s: s.update(csv={"line_separator": "|"}),
            "source.csv.line_separator: '|' is not one of",
        ),
    ],
)
def test_ingest_mistakes_are_named(tmp_path: Path, change: Any, message: str) -> None:
    data = manifest_style_ingest(tmp_path)
    change(data["source"])

    with pytest.raises(ParamsError, match=r"^<params>: ") as error:
        parse_ingest(data)

    assert message in str(error.value)


def test_bad_rule_pattern_is_named(tmp_path: Path) -> None:
    data = manifest_style_ingest(tmp_path)
    data["rules"] = {"cancellation_pattern": "^(C"}

    with pytest.raises(ParamsError, match=r"rules.cancellation_pattern: '\^\(C' is not a regular"):
        parse_ingest(data)


def test_basket_sources_need_no_columns_and_default_to_no_header(tmp_path: Path) -> None:
    params = parse_ingest(ingest_params(tmp_path, {"path": "/g.csv", "format": "baskets"}))

    assert params.source.columns is None
    assert params.source.csv.header is False


def test_an_interval_needs_a_time_column(tmp_path: Path) -> None:
    data = ingest_params(
        tmp_path,
        {"path": "/g.csv", "format": "baskets"},
        interval={"start": "2011-01-01", "end": "2011-02-01"},
    )

    with pytest.raises(ParamsError, match="interval: needs a source with a time column"):
        parse_ingest(data)


def test_interval_accepts_utc_and_lists_its_periods(tmp_path: Path) -> None:
    data = affinity_params(
        tmp_path,
        "/lake/ol",
        {"min_support": 0.01},
        interval={"start": "2010-12-01T00:00:00Z", "end": "2011-03-01T00:00:00"},
    )

    interval = parse_affinity(data).interval

    assert interval == Interval(datetime(2010, 12, 1), datetime(2011, 3, 1))
    assert interval.periods() == ("2010-12", "2011-01", "2011-02")


@pytest.mark.parametrize(
    ("thresholds", "baskets", "count"),
    [
        (Thresholds(min_support=0.006), 9835, 60),  # 59.01 rounds up
        (Thresholds(min_support=0.001), 20000, 20),  # exactly 20, not 21 from 20.000000004
        (Thresholds(min_support=0.001, min_support_count=25), 20000, 25),
        (Thresholds(min_support=0.01, min_support_count=25), 20000, 200),
        (Thresholds(), 10, 1),
    ],
)
def test_min_count_is_the_stricter_support(
    thresholds: Thresholds, baskets: int, count: int
) -> None:
    assert thresholds.min_count(baskets) == count


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    broken = tmp_path / "params.json"
    broken.write_text('{"product": "p",\n  "inputs": }', encoding="utf-8")

    with pytest.raises(ParamsError, match=r"params.json:2:13: not valid JSON"):
        load_affinity(broken)
    with pytest.raises(ParamsError, match="cannot read the parameter file"):
        load_affinity(tmp_path / "missing.json")


def test_main_exits_2_on_bad_params_without_starting_spark(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from lodestar.jobs import affinity

    data = affinity_params(tmp_path, "/lake/ol", {"min_support": 2})
    path = tmp_path / "params.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    with caplog.at_level(logging.ERROR):
        code = affinity.main(["--params", str(path)])

    assert code == 2
    assert "thresholds.min_support: 2 must be between 0.0 and 1.0" in caplog.text
