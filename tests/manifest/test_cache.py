"""The manifests parse cache: same catalog as a fresh load, never stale, misses on damage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lodestar.manifest import load_folder
from lodestar.manifest.cache import folder_key, load_folder_cached

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.unit


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(REPO / "manifests", target)
    return target


def test_cached_catalog_equals_a_fresh_load(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = load_folder_cached(folder, cache)
    second = load_folder_cached(folder, cache)
    fresh = load_folder(folder)
    assert len(list(cache.glob("catalog-*.json"))) == 1
    assert second.products == fresh.products == first.products
    assert second.sources == fresh.sources
    assert [str(e) for e in second.errors] == [str(e) for e in fresh.errors] == []


def test_a_changed_byte_gives_a_new_key_and_the_new_content(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before = folder_key(folder)
    load_folder_cached(folder, cache)
    path = folder / "product-affinity.yaml"
    path.write_text(path.read_text().replace("target: 0.6", "target: 0.65", 1))
    assert folder_key(folder) != before
    catalog = load_folder_cached(folder, cache)
    nsm = catalog.products["product-affinity"].business.north_star
    assert nsm is not None and nsm.target == 0.65


def test_errors_come_back_located(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (folder / "broken.yaml").write_text("apiVersion: lodestar/v1\nkind: DataProduct\nfoo: 1\n")
    fresh = [str(e) for e in load_folder_cached(folder, cache).errors]
    cached = load_folder_cached(folder, cache).errors
    assert [str(e) for e in cached] == fresh and fresh
    assert any(e.location.file == folder / "broken.yaml" and e.location.line for e in cached)


def test_a_damaged_cache_file_is_only_a_miss(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_folder_cached(folder, cache)
    (damaged,) = cache.glob("catalog-*.json")
    damaged.write_text("{not json")
    assert set(load_folder_cached(folder, cache).products) == {"retail-orders", "product-affinity"}


def test_a_change_of_the_checking_code_misses_the_cache(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lodestar.manifest import cache

    before = folder_key(folder)
    # a release that words one message differently must not serve the old catalog
    monkeypatch.setattr(cache, "_code_digest", lambda: "another-release")

    assert folder_key(folder) != before
