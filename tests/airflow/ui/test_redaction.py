"""Secrets never reach the page: credentials in URLs and secret-looking query values."""

from __future__ import annotations

import pytest

from lodestar.airflow.ui.redaction import redact, without_userinfo

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("s3a://reader:p4ss@bucket/key.parquet", "s3a://***@bucket/key.parquet"),
        ("postgresql://airflow:pw@db:5432/airflow", "postgresql://***@db:5432/airflow"),
        ("https://ghp_token@host/repo", "https://***@host/repo"),
        ("https://h/p?token=abc&page=1", "https://h/p?token=***&page=1"),
        ("https://h/?access_token=zz#api_key=yy", "https://h/?access_token=***#api_key=***"),
        (
            "https://b.s3/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=ff00&X-Amz-Date=1",
            "https://b.s3/k?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Date=1",
        ),
        ("https://acct.blob/c?sv=2024&sig=abc%3D", "https://acct.blob/c?sv=2024&sig=***"),
        ("cannot read s3a://u:p@b/k: denied", "cannot read s3a://***@b/k: denied"),
    ],
)
def test_secrets_are_masked(text: str, shown: str) -> None:
    assert redact(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "https://h/p?design=3&author=me",
        "merch-analytics@example.com",
        "file:///lake/product-affinity/pair_rules",
        "Share of valid orders in a month that contain at least one recommended pair.",
    ],
)
def test_harmless_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_links_lose_their_credentials() -> None:
    assert without_userinfo("http://user:pw@127.0.0.1:3000/") == "http://127.0.0.1:3000/"
