"""The synthetic archive generator: deterministic, realistic, and consistent with its blobs."""

from __future__ import annotations

import filecmp
import hashlib
import json

from dandindex.testing.generate import generate_archive

from helpers import is_embargoed, read_folder


def _same_tree(a, b) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    return all(_same_tree(a / d, b / d) for d in cmp.common_dirs)


def test_same_seed_same_archive(tmp_path):
    generate_archive(tmp_path / "a", n_dandisets=7, n_assets=300, seed=5)
    generate_archive(tmp_path / "b", n_dandisets=7, n_assets=300, seed=5)
    generate_archive(tmp_path / "c", n_dandisets=7, n_assets=300, seed=6)
    assert _same_tree(tmp_path / "a", tmp_path / "b")
    assert not _same_tree(tmp_path / "a", tmp_path / "c")


def test_archive_has_the_promised_variety(generated):
    folder = read_folder(generated.root)
    assets = [a for d in folder.values() for a in d["assets"]]
    assert len(assets) == generated.n_assets
    assert len(folder[generated.empty]["assets"]) == 0
    assert is_embargoed(folder[generated.embargoed]["draft"])
    assert all(is_embargoed(a["metadata"]) for a in folder[generated.embargoed]["assets"])
    assert any(a.get("zarr") for a in assets)
    formats = {a["metadata"].get("encodingFormat") for a in assets}
    assert {"application/x-nwb", "video/x-msvideo", "application/x-zarr"} <= formats
    assert {a["metadata"]["schemaVersion"] for a in assets} >= {"0.4.4", "0.6.0", "0.6.4"}
    taxa = {
        p["species"]["identifier"]
        for a in assets
        for p in a["metadata"].get("wasAttributedTo") or []
        if isinstance(p, dict) and isinstance(p.get("species"), dict)
    }
    assert len(taxa) >= 3
    assert any("_ses-" in a["path"] and a["path"].startswith("sub-") for a in assets)
    assert generated.published and all(folder[k]["versions"] for k in generated.published)


def test_nwb_assets_describe_their_blobs(generated, nwb_files, cohort_files):
    folder = read_folder(generated.root)
    by_id = {a["asset_id"]: a for d in folder.values() for a in d["assets"]}
    index = json.loads((generated.root / "blobs" / "index.json").read_text())
    assert len(generated.nwb_assets) == len(nwb_files) + len(cohort_files)
    for asset_id, att in generated.nwb_assets.items():
        item = by_id[asset_id]
        data = att.path.read_bytes()
        assert item["size"] == len(data)
        assert item["metadata"]["digest"]["dandi:sha2-256"] == hashlib.sha256(data).hexdigest()
        assert index[item["blob"]] == str(att.path.resolve())


def test_malformed_assets_are_present_and_broken(generated):
    folder = read_folder(generated.root)
    by_id = {a["asset_id"]: a for d in folder.values() for a in d["assets"]}
    assert len(generated.malformed_assets) == 6
    kinds = set()
    for aid in generated.malformed_assets:
        meta = by_id[aid]["metadata"]
        if not isinstance(meta.get("wasAttributedTo"), list):
            kinds.add("participant-not-list")
        if isinstance(meta.get("approach"), str):
            kinds.add("approach-string")
        if meta.get("schemaVersion") == "9.9.9":
            kinds.add("unknown-schema")
    assert kinds == {"participant-not-list", "approach-string", "unknown-schema"}
