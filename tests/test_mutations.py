"""One bad value never loses a dandiset or a crawl: single-field mutations of asset items,
version metadata and Dandiset listing entries, served through a rewriting proxy in front of
the local archive. Each crawl finishes, keeps every other row, and an error row names the
field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from dandindex.crawl import Crawler, CrawlOptions
from dandindex.index import Index
from dandindex.testing.archive import ArchiveServer
from dandindex.testing.proxy import FaultProxy

YEAR_ONE = "0001-01-01T00:00:00+05:00"


@pytest.fixture(scope="module")
def mutation_archive(tmp_path_factory):
    from dandindex.testing.generate import generate_archive

    root = tmp_path_factory.mktemp("mutations")
    gen = generate_archive(root, n_dandisets=9, n_assets=60, seed=11, embargoed=False)
    with ArchiveServer(root) as srv, FaultProxy(srv.url) as proxy:
        yield gen, srv, proxy


@pytest.fixture(scope="module")
def reference(mutation_archive, tmp_path_factory):
    """Clean crawls (of everything, and of one dandiset), made once."""
    _, srv, _ = mutation_archive
    made: dict[str, Any] = {}

    def get(ds: str | None = None):
        key = ds or "all"
        if key not in made:
            made[key] = tmp_path_factory.mktemp(f"ref-{key}")
            crawl(srv.api_url, made[key], [ds] if ds else None)
        return made[key]

    return get


def crawl(api_url: str, index, dandisets: list[str] | None = None):
    return Crawler(
        CrawlOptions(
            api_url=api_url, index_dir=str(index), dandisets=dandisets or [], workers=2, timeout=10
        )
    ).run()


def rows(index, sql: str) -> list[dict[str, Any]]:
    with Index(index) as idx:
        return idx.sql(sql).rows()


def set_path(obj: Any, path: str, value: Any) -> Any:
    """`obj` with the dotted `path` (``metadata.wasAttributedTo.0.species``) set to `value`."""
    keys = path.split(".")
    out = copy.deepcopy(obj)
    cur = out
    for k in keys[:-1]:
        cur = cur[int(k)] if isinstance(cur, list) else cur[k]
    last = keys[-1]
    if isinstance(cur, list):
        cur[int(last)] = value
    else:
        cur[last] = value
    return out


ASSET_MUTATIONS: list[tuple[str, Any]] = [
    ("asset_id", None),
    ("asset_id", 5),
    ("asset_id", []),
    ("path", None),
    ("path", 5),
    ("path", ["a", "b"]),
    ("blob", 12345),
    ("blob", {"id": 1}),
    ("size", True),
    ("size", 2**70),
    ("size", "123"),
    ("size", "big"),
    ("size", 1.5),
    ("created", YEAR_ONE),
    ("created", 5),
    ("modified", "yesterday"),
    ("metadata", None),
    ("metadata", []),
    ("metadata", "text"),
    ("metadata.contentSize", 2**70),
    ("metadata.contentSize", True),
    ("metadata.digest", "x"),
    ("metadata.digest", {"dandi:sha2-256": 5, "dandi:dandi-etag": ["x"]}),
    ("metadata.encodingFormat", 5),
    ("metadata.path", 5),
    ("metadata.contentUrl", 5),
    ("metadata.wasAttributedTo", 5),
    ("metadata.wasAttributedTo.0.species", {"name": 5, "identifier": 10090}),
    ("metadata.wasAttributedTo.0.species", "mouse"),
    ("metadata.wasAttributedTo.0.age", {"value": 5}),
    ("metadata.wasAttributedTo.0.age", {"value": "P-999999999999999999999D"}),
    ("metadata.wasAttributedTo.0.sex", 5),
    ("metadata.wasAttributedTo.0.genotype", {"x": 1}),
    ("metadata.wasAttributedTo.0.identifier", ["x"]),
    ("metadata.dateModified", YEAR_ONE),
    ("metadata.wasGeneratedBy", "x"),
    ("metadata.wasGeneratedBy.0.startDate", YEAR_ONE),
    ("metadata.about", 5),
    ("metadata.about", [{"name": 5}]),
    ("metadata.approach", [5, None, {"name": 3}]),
    ("metadata.variableMeasured", 5),
    ("metadata.schemaVersion", 5),
]


def nwb_dandiset(gen) -> str:
    from helpers import read_folder

    folder = read_folder(gen.root)
    return next(
        d
        for d, v in folder.items()
        if v["assets"] and "wasAttributedTo" in v["assets"][0]["metadata"]
    )


@pytest.mark.slow
@pytest.mark.parametrize(("field", "value"), ASSET_MUTATIONS, ids=lambda v: repr(v)[:30])
def test_one_bad_asset_value_loses_nothing_else(
    mutation_archive, reference, tmp_path, field, value
):
    gen, srv, proxy = mutation_archive
    ds = nwb_dandiset(gen)
    ref = reference(ds)
    want = {r["asset_id"] for r in rows(ref, "SELECT asset_id FROM assets WHERE version = 'draft'")}
    victim: dict[str, Any] = {}

    def mutate(body: Any) -> Any:
        victim.update(body["results"][0])
        body["results"][0] = set_path(body["results"][0], field, value)
        return body

    proxy.clear()
    proxy.add(
        kind="mutate", path=rf"/dandisets/{ds}/versions/draft/assets/", mutate=mutate, count=None
    )
    try:
        stats = crawl(proxy.api_url, tmp_path / "bad", [ds])
    finally:
        proxy.clear()
    assert stats.dandisets_failed == 0
    got = {
        r["asset_id"]
        for r in rows(tmp_path / "bad", "SELECT asset_id FROM assets WHERE version = 'draft'")
    }
    errors = rows(tmp_path / "bad", "SELECT * FROM crawl_errors")
    top = field.split(".")[-1] if field != "metadata" else "metadata"
    named = [e for e in errors if top.split(".")[-1] in e["error"] or top in e["error"]]
    if field == "asset_id":  # a number is read as text; no id at all: not indexed (the rest is)
        assert got - {str(value)} == want - {victim["asset_id"]} and named
    else:
        assert got == want
        harmless = (field, value) in (("size", 1.5),) or field == "metadata.contentUrl"
        assert named or harmless, errors


LISTING_MUTATIONS: list[tuple[str, Callable[[list[dict[str, Any]]], list[Any]]]] = [
    ("identifier=None", lambda r: [set_path(r[0], "identifier", None), *r[1:]]),
    ("identifier=5", lambda r: [set_path(r[0], "identifier", 5), *r[1:]]),
    ("identifier=../x", lambda r: [set_path(r[0], "identifier", "../../x"), *r[1:]]),
    ("entry not an object", lambda r: ["x", *r[1:]]),
    ("duplicate entry", lambda r: [r[0], copy.deepcopy(r[0]), *r[1:]]),
    ("modified=5", lambda r: [set_path(r[0], "modified", 5), *r[1:]]),
    ("created=year 1", lambda r: [set_path(r[0], "created", YEAR_ONE), *r[1:]]),
    ("star_count=many", lambda r: [set_path(r[0], "star_count", "many"), *r[1:]]),
    ("star_count=2**70", lambda r: [set_path(r[0], "star_count", 2**70), *r[1:]]),
    ("contact_person=5", lambda r: [set_path(r[0], "contact_person", 5), *r[1:]]),
    ("draft_version=x", lambda r: [set_path(r[0], "draft_version", "x"), *r[1:]]),
    ("draft name=5", lambda r: [set_path(r[0], "draft_version.name", 5), *r[1:]]),
    ("published=5", lambda r: [set_path(r[0], "most_recent_published_version", 5), *r[1:]]),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "change"), LISTING_MUTATIONS, ids=[m[0] for m in LISTING_MUTATIONS]
)
def test_one_bad_listing_value_loses_nothing_else(
    mutation_archive, reference, tmp_path, name, change
):
    gen, srv, proxy = mutation_archive
    ref = reference()
    want = rows(ref, "SELECT dandiset_id, count(*) AS n FROM assets GROUP BY 1 ORDER BY 1")
    first = rows(ref, "SELECT min(dandiset_id) AS d FROM dandisets")[0]["d"]

    def mutate(body: Any) -> Any:
        body["results"] = change(body["results"])
        return body

    proxy.clear()
    proxy.add(kind="mutate", path=r"/api/dandisets/\?", mutate=mutate, count=None)
    try:
        stats = crawl(proxy.api_url, tmp_path / "bad")
    finally:
        proxy.clear()
    got = rows(
        tmp_path / "bad", "SELECT dandiset_id, count(*) AS n FROM assets GROUP BY 1 ORDER BY 1"
    )
    others = [r for r in want if r["dandiset_id"] != first]
    assert [r for r in got if r["dandiset_id"] != first] == others  # nothing else lost
    errors = rows(tmp_path / "bad", "SELECT * FROM crawl_errors WHERE stage = 'dandiset_listing'")
    assert errors or name == "draft name=5", name
    assert stats.dandisets_failed == 0 or name in ("draft_version=x",)


VERSION_MUTATIONS: list[tuple[str, Any]] = [
    ("name", 5),
    ("description", {"x": 1}),
    ("contributor", "x"),
    ("contributor.0.name", 5),
    ("contributor.0.roleName", 5),
    ("dateCreated", YEAR_ONE),
    ("assetsSummary", 5),
    ("assetsSummary.numberOfBytes", 2**70),
    ("keywords", [1, None]),
    ("license", "x"),
    ("about", [{"name": 5}]),
    ("schemaVersion", 5),
]


@pytest.mark.slow
@pytest.mark.parametrize(("field", "value"), VERSION_MUTATIONS, ids=lambda v: repr(v)[:30])
def test_one_bad_version_value_loses_nothing_else(
    mutation_archive, reference, tmp_path, field, value
):
    gen, srv, proxy = mutation_archive
    ds = nwb_dandiset(gen)
    ref = reference(ds)
    proxy.clear()
    proxy.add(
        kind="mutate",
        path=rf"/dandisets/{ds}/versions/draft/$",
        mutate=lambda body: set_path(body, field, value),
        count=None,
    )
    try:
        stats = crawl(proxy.api_url, tmp_path / "bad", [ds])
    finally:
        proxy.clear()
    assert stats.dandisets_failed == 0
    sql = "SELECT asset_id, version FROM assets ORDER BY 1, 2"
    assert rows(tmp_path / "bad", sql) == rows(ref, sql)
    assert len(rows(tmp_path / "bad", "SELECT * FROM versions WHERE version = 'draft'")) == 1
    errors = rows(tmp_path / "bad", "SELECT * FROM crawl_errors WHERE stage = 'version_metadata'")
    assert any(field.split(".")[0] in e["error"] for e in errors), errors
