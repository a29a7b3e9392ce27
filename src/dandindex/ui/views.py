"""The pages of `dandindex ui` (see `dandindex.ui`)."""

from __future__ import annotations

import functools
import json
from collections import OrderedDict
from typing import Any

from dandindex.errors import DandindexError
from dandindex.ui.common import MAX_PAGES, PAGE, current_index, href, query_pairs

ASSET_COLUMNS = ["path", "dandiset_id", "species", "areas", "neurodata_types", "n_units", "size"]
DANDISET_COLUMNS = ["dandiset_id", "name", "assets", "size", "species", "modalities"]
NUMERIC = {"n_units", "size", "assets", "n_electrodes"}
COUNTS_KEPT = 64  # sidebars of recent searches
#: the structure every file has: not worth a place in a result's list of types
STRUCTURAL = {"NWBFile", "Subject", "Device", "ProcessingModule", "VectorData", "VectorIndex",
              "ElementIdentifiers", "DynamicTableRegion", "TimeSeriesReferenceVectorData"}  # fmt: skip
TREE_SKIP = {"root", "grey"}  # the atlas's top two levels hold everything


def register(app: Any) -> None:
    app.add_url_rule("/", "search", search)
    app.add_url_rule("/search.<fmt>", "search_export", search_export)
    app.add_url_rule("/dandiset/<dandiset_id>", "dandiset", dandiset)
    from dandindex.ui.assetpages import asset, plot, preview

    app.add_url_rule("/asset/<asset_id>", "asset", asset)
    app.add_url_rule("/asset/<asset_id>/plot", "plot", plot)
    app.add_url_rule("/asset/<asset_id>/preview.png", "preview", preview)
    from dandindex.ui.sqlpage import sql

    app.add_url_rule("/sql", "sql", sql)


@functools.lru_cache(maxsize=1)
def _hierarchy() -> Any:
    from dandindex.nwb.hierarchy import TypeHierarchy

    return TypeHierarchy()


def leaf_types(types: list[str] | None) -> str:
    """A file's neurodata types as a reader wants them: the most specific ones (a type that
    is the ancestor of another in the list is implied), without the structure every file
    has."""
    return _leaf_types(frozenset(types or ()))


@functools.lru_cache(maxsize=4096)
def _leaf_types(names: frozenset[str]) -> str:  # files share their sets of types
    hierarchy = _hierarchy()
    implied = {a for t in names for a in _ancestors(hierarchy, t)}
    return ", ".join(sorted(names - implied - STRUCTURAL))


@functools.lru_cache(maxsize=4096)
def _ancestors(hierarchy: Any, name: str) -> tuple[str, ...]:
    return tuple(hierarchy.ancestors(name))


def warm(app: Any) -> None:
    """Do at start what the first pages would otherwise pay for: the search vocabularies,
    the sidebars' counts, the neurodata type hierarchy."""
    from dandindex.tree import plottable

    with app.test_request_context("/"):
        from flask import request

        idx, lock = current_index()
        from dandindex.query import SearchQuery
        from dandindex.vocab.species import known_species

        with lock:
            idx.count(SearchQuery(area="VISp"))  # the Allen atlas

        with lock:
            idx.vocab().species()  # the held species (resolving names needs them)
            idx.searcher().assets.warm()  # the asset pages' lookups (file footers)
        known_species()  # dandi-cli's table (its import is a third of a second)
        _facets(idx, lock, request.args)
        plottable([{"path": "/x", "neurodata_type": "TimeSeries"}])
    for url in ("/", "/?species=mouse&modality=ecephys"):  # templates compiled, paths taken
        app.test_client().get(url)
    import gc

    # What is loaded now stays for the app's life (vocabularies, atlas, bitmaps: millions of
    # objects); frozen, the collector stops walking them, which cost pages 100-300 ms pauses.
    gc.collect()
    gc.freeze()


def _query(args: Any) -> tuple[Any, int]:
    """The search of the request (each facet of the registry reads its own fields); bad
    values are a `DandindexError` sentence. Also the page asked for."""
    from dandindex.query import SearchQuery
    from dandindex.registry import FACETS

    values = {f.name: f.from_form(args) for f in FACETS}
    level = "dandiset" if args.get("level") == "dandiset" else "asset"
    try:
        page = min(max(int(args.get("page", 0)), 0), MAX_PAGES - 1)
    except ValueError:
        page = 0
    versions = "all" if args.get("versions") == "all" else "latest"
    return SearchQuery(args.get("q") or None, level=level, versions=versions, **values), page


def _params() -> set[str]:
    """Every URL parameter a facet of the registry reads."""
    from dandindex.registry import FACETS

    return {f.param for facet in FACETS for f in facet.fields()}


def form_fields() -> list[Any]:
    """The form's inputs: every field of every facet not listed in the sidebar (a facet of
    terms without a sidebar, like --file-area, is a text box)."""
    from dandindex.registry import FACETS
    from dandindex.results import COUNTED_FACETS

    return [f for facet in FACETS for f in facet.fields()
            if f.input != "terms" or facet.name not in COUNTED_FACETS]  # fmt: skip


def _facets(idx: Any, lock: Any, args: Any, query: Any = None) -> list[dict[str, Any]]:
    """The sidebars: the values of each facet with how many of the current matches hold
    them (a facet the search gives: how many its other values would add), most first. The
    counts of the bare page are kept; those of a search are counted on the posting bitmaps
    (`Index.result_counts`) and the last few kept."""
    from flask import current_app

    from dandindex.query import SearchQuery

    cache = current_app.config["CACHE"]
    if query is None or query.versions != "latest":
        query = SearchQuery()  # a search in error: the whole index's counts
    key = query.replace(level="asset", limit=None)
    kept: OrderedDict[Any, Any] = cache.setdefault("counts", OrderedDict())
    if "names" not in cache:
        with lock:
            cache["names"] = idx.species_names()
    names = cache["names"]
    bare = key == SearchQuery()
    counts = cache.get("bare_counts") if bare else kept.get(key)
    if counts is None:
        with lock:
            counts = idx.result_counts(key)
        if bare:
            cache["bare_counts"] = counts
        else:
            kept[key] = counts
            while len(kept) > COUNTS_KEPT:
                kept.popitem(last=False)
    elif not bare:
        kept.move_to_end(key)
    current = query_pairs(args)

    def item(kind: str, value: str, label: str, n: int) -> dict[str, Any]:
        on = (kind, value) in current
        pairs = [p for p in current if p != (kind, value)] if on else [*current, (kind, value)]
        return {"label": label, "count": f"{n:,}", "href": href(pairs), "on": on}

    def items(kind: str, n: int) -> list[dict[str, Any]]:
        out = []
        ranked = sorted(counts[kind].items(), key=lambda kv: (-kv[1], kv[0]))
        for value, count in ranked[:n]:
            label = value
            if kind == "species":
                label = names.get(value, value)
                value = label.split(" - ")[0]
            out.append(item(kind, value, label, count))
        return out

    return [
        {"title": "Species", "items": items("species", 30), "open": True},
        {"title": "Modality", "items": items("modality", 100), "open": True},
        {"title": "Brain area", "tree": _area_tree(counts["area"], current), "open": True},
        {"title": "Neurodata type", "items": items("type", 40), "open": False},
        {"title": "File format", "items": items("file_format", 40), "open": False},
        {"title": "Channel", "items": items("channel", 40), "open": False},
        {"title": "Dandiset", "items": items("dandiset", 40), "open": False},
    ]


def _area_tree(counts: dict[str, int], current: list[tuple[str, str]]) -> str:
    """The Allen areas that have data, nested as the atlas nests them, with counts."""
    from html import escape

    from dandindex.vocab.areas import atlas

    known = atlas()
    nodes = {a: known[a.lower()] for a in counts if a.lower() in known and a not in TREE_SKIP}
    by_id = {s.id: a for a, s in nodes.items()}
    children: dict[str | None, list[str]] = {}
    for a, s in nodes.items():
        parent = next((by_id[i] for i in reversed(s.path[:-1]) if i in by_id), None)
        children.setdefault(parent, []).append(a)

    def render(parent: str | None, depth: int) -> str:
        out = []
        for a in sorted(children.get(parent, []), key=lambda x: -counts[x]):
            on = ("area", a) in current
            pairs = [p for p in current if p != ("area", a)] if on else [*current, ("area", a)]
            link = (
                f'<a href="{escape(href(pairs))}" class="{"on" if on else ""}" '
                f'title="{escape(nodes[a].name)}">{escape(a)}</a> '
                f'<span class="count">{counts[a]:,}</span>'
            )
            if a in children:
                opened = " open" if depth < 3 or on else ""
                out.append(
                    f"<li><details{opened}><summary>{link}</summary>"
                    f"{render(a, depth + 1)}</details></li>"
                )
            else:
                out.append(f"<li>{link}</li>")
        return f"<ul>{''.join(out)}</ul>"

    return render(None, 0) if nodes else '<p class="count">no mapped areas</p>'


def _suggestions(idx: Any, lock: Any) -> dict[str, list[str]]:
    """What the free-text fields offer (a datalist): the commonest object names and table
    columns of the index (read once)."""
    from flask import current_app

    cache = current_app.config["CACHE"]
    if "suggestions" not in cache:
        out: dict[str, list[str]] = {}
        with lock:
            for kind in ("has", "column"):
                try:
                    counts = idx.facet_counts(kind)
                except DandindexError:
                    counts = {}
                names = [v for v in counts if not v.startswith("/")]
                out[kind] = sorted(names, key=lambda v: (-counts[v], v))[:60]
        cache["suggestions"] = out
    return dict(cache["suggestions"])


def _run_search(idx: Any, lock: Any, query: Any, limit: int) -> Any:
    with lock:
        return idx.run_search(query.replace(limit=limit))


def search() -> Any:
    from flask import render_template, request

    idx, lock = current_index()
    pairs = query_pairs(request.args)
    error, rows, result, page, query = None, [], None, 0, None
    try:
        query, page = _query(request.args)
        result = _run_search(idx, lock, query, (page + 1) * PAGE)
        rows = result.rows()[page * PAGE :]
    except DandindexError as e:
        error = str(e)
    level = "dandiset" if request.args.get("level") == "dandiset" else "asset"
    noun = "dandisets" if level == "dandiset" else "assets"
    shown_total = None
    if result is not None:
        shown_total = result.total if result.total is not None else len(result)
    more = result is not None and (result.truncated or len(result) > (page + 1) * PAGE)
    if result is None:
        summary = "No results"
    elif shown_total == 0:
        summary = f"No {noun} match"
    else:
        first = page * PAGE + 1
        summary = f"{first:,}-{first + len(rows) - 1:,} of {shown_total:,} {noun}"
    without_level = [p for p in pairs if p[0] != "level"]
    switch = [*without_level, ("level", "dandiset")] if level == "asset" else without_level
    params = _params()
    terms = {f.param for f in _fields_of("terms")}
    chips = [
        {"label": f"{k}: {v}", "href": href([p for p in pairs if p != (k, v)])}
        for k, v in pairs
        if k in params or k == "q"
    ]
    fields = form_fields()
    args = {k: request.args.get(k) for k in ("q", *(f.param for f in fields))}
    return render_template(
        "search.html",
        root=request.script_root,  # row links without url_for (100 calls a page)
        args=args,
        fields=fields,
        fields_given=any(args.get(f.param) for f in fields),
        suggestions=_suggestions(idx, lock),
        facets=_facets(idx, lock, request.args, query),
        hidden=[(k, v) for k, v in pairs if k in terms or k in ("q", "level")],
        keep_for_text=[(k, v) for k, v in pairs if k != "q"],
        chips=chips,
        summary=summary,
        notes=list(getattr(result, "notes", []) or []),
        error=error,
        rows=rows,
        columns=DANDISET_COLUMNS if level == "dandiset" else ASSET_COLUMNS,
        headers={"dandiset_id": "dandiset", "neurodata_types": "types", "n_units": "units"},
        numeric=NUMERIC,
        page=page,
        prev_href=href([*pairs, ("page", str(page - 1))]) if page > 0 else None,
        next_href=href([*pairs, ("page", str(page + 1))])
        if more and page + 1 < MAX_PAGES
        else None,
        level_href=href(switch),
        level_switch="show dandisets" if level == "asset" else "show assets",
        json_href=href(pairs, "/search.json"),
        csv_href=href(pairs, "/search.csv"),
        urls_href=href(pairs, "/search.urls"),
    )


def _fields_of(kind: str) -> list[Any]:
    from dandindex.registry import FACETS

    return [f for facet in FACETS for f in facet.fields() if f.input == kind]


def search_export(fmt: str) -> Any:
    """The `.json`/`.csv` twin of a search page (rows as `dandindex search --format` writes
    them, at most `limit`, default 1,000) and `.urls` (dandi:// URLs, one per line)."""
    from flask import Response, abort, request

    from dandindex.display import render

    if fmt not in ("json", "csv", "urls", "jsonl"):
        abort(404)
    idx, lock = current_index()
    try:
        limit = min(int(request.args.get("limit", 1000)), 10_000)
        query, _ = _query(request.args)
        result = _run_search(idx, lock, query, limit)
    except (DandindexError, ValueError) as e:
        return Response(json.dumps({"error": str(e)}), 400, mimetype="application/json")
    headers = {"X-Total-Count": str(result.total if result.total is not None else len(result))}
    if fmt == "urls":
        urls = "".join(f"{r['dandi_url']}\n" for r in result.rows() if r.get("dandi_url"))
        return Response(urls, mimetype="text/plain", headers=headers)
    kind = {"json": "application/json", "jsonl": "application/x-ndjson", "csv": "text/csv"}
    return Response(render(result.to_arrow(), fmt), mimetype=kind[fmt], headers=headers)


# -- dandisets and assets ------------------------------------------------------------------


def dandiset(dandiset_id: str) -> Any:
    from flask import abort, render_template, request

    from dandindex.display import cell
    from dandindex.instances import web_url

    idx, lock = current_index()
    try:
        page = min(max(int(request.args.get("page", 0)), 0), MAX_PAGES - 1)
    except ValueError:
        page = 0
    with lock:
        rows = idx.rows("dandisets", where={"dandiset_id": dandiset_id})
        if not len(rows):
            abort(404, f"No dandiset {dandiset_id} in this index.")
        d = rows.rows()[0]
        versions = idx.rows("versions", where={"dandiset_id": dandiset_id}, order_by=["-version"])
        versions = sorted(versions.rows(), key=lambda v: v["version"] == "draft")  # drafts last
        version = versions[0]["version"] if versions else "draft"
        contributors = idx.rows(
            "contributors", where={"dandiset_id": dandiset_id, "version": version}, limit=200
        ).rows()
        total, assets = idx.searcher().version_assets(  # a span of rows, not a scan
            dandiset_id, version, page * PAGE, PAGE, ["asset_id", "path", "size", "version"]
        )
    v0 = versions[0] if versions else {}
    facts = [
        (k.replace("_", " "), cell(v0.get(k), k))
        for k in ("species", "approach", "measurement_technique", "anatomy", "license")
        if v0.get(k)
    ] + [("citation", v0.get("citation") or "")]
    for c in contributors:
        c["roles"] = cell(c.get("roles"), "roles").replace("dcite:", "")
    return render_template(
        "dandiset.html",
        d=d,
        version=v0,
        facts=[f for f in facts if f[1]],
        versions=versions,
        contributors=contributors,
        assets=assets,
        total=total,
        page=page,
        web_url=web_url(idx.manifest.get("api_url") or "", dandiset_id, version),
        prev_href=href([("page", str(page - 1))], f"/dandiset/{dandiset_id}") if page else None,
        next_href=href([("page", str(page + 1))], f"/dandiset/{dandiset_id}")
        if (page + 1) * PAGE < total
        else None,
    )
