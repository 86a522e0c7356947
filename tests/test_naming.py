"""The one naming rule: lake locations and their OpenLineage names."""

from __future__ import annotations

import pytest

from lodestar import naming

pytestmark = pytest.mark.unit


def test_output_locations_follow_the_layout() -> None:
    assert naming.output_location("/lake/", "retail-orders", "order_lines") == (
        "/lake/retail-orders/order_lines"
    )
    assert naming.period_location("s3a://b/l", "product-affinity", "order_attach", "2011-06") == (
        "s3a://b/l/product-affinity/order_attach/period=2011-06"
    )


@pytest.mark.parametrize(
    ("location", "namespace", "name"),
    [
        ("/lake/p/o", "file", "/lake/p/o"),
        ("file:///lake/p/o", "file", "/lake/p/o"),
        ("s3a://bucket/lake/p/o", "s3://bucket", "lake/p/o"),
        ("s3a://key:secret@bucket/lake/p/o", "s3://bucket", "lake/p/o"),
        ("hdfs://nn:8020/lake/p/o", "hdfs://nn:8020", "/lake/p/o"),
        ("hdfs://user:pw@nn:8020/lake", "hdfs://nn:8020", "/lake"),
        ("gs://bucket/x", "gs://bucket", "x"),
    ],
)
def test_lineage_names_follow_the_openlineage_spec_without_credentials(
    location: str, namespace: str, name: str
) -> None:
    dataset = naming.dataset_for_location(location)
    assert (dataset.namespace, dataset.name) == (namespace, name)
    assert "secret" not in dataset.uri and "pw" not in dataset.uri


@pytest.mark.parametrize("bad", ["Retail", "1x", "a b", "a--b"])
def test_names_that_are_not_slugs_are_refused_with_the_rule(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a slug"):
        naming.output_location("/lake", bad, "o")


def test_unknown_schemes_are_refused() -> None:
    with pytest.raises(ValueError, match="no OpenLineage naming rule for scheme 'ftp'"):
        naming.dataset_for_location("ftp://host/x")
