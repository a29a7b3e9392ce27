"""The offline tour (`make demo`): the DANDI tour, retraced against a local archive.

Starts the local archive server on a generated archive with real NWB files (plus the real
metadata of ../shared/corpus when it is there), crawls it with NWB summaries, then lists
dandisets and their titles, the assets of one, published versus draft, searches ophys in
visual cortex for mouse, streams a file and plots: ΔF/F of 5 ROIs over 1000 frames, the mean
image, ROI outlines on the max projection, an ephys snippet and a unit raster. PNGs go to
``--out`` (default ``demo-output/``). ``--online`` runs the same tour against the real archive.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

SHARED_CORPUS = (
    Path(os.environ.get("DANDINDEX_SHARED", Path(__file__).resolve().parents[2].parent / "shared"))
    / "corpus"
)


def say(text: str) -> None:
    print(text, flush=True)


def build_archive(work: Path) -> Path:
    from dandindex.testing.generate import attachments_from, generate_archive
    from dandindex.testing.nwbfiles import write_all

    files = write_all(work / "nwb")
    root = work / "archive"
    generate_archive(
        root,
        n_dandisets=9,
        n_assets=300,
        seed=42,
        nwb_files=attachments_from(files),
        first_id=900001,
    )
    if (SHARED_CORPUS / "dandisets").is_dir():
        for d in sorted((SHARED_CORPUS / "dandisets").iterdir()):
            os.symlink(d, root / "dandisets" / d.name)
        say(
            f"archive: generated dandisets 900001-900009 with real NWB files, plus the real metadata of {SHARED_CORPUS}"
        )
    else:
        say(
            "archive: generated dandisets 900001-900009 with real NWB files (../shared/corpus not found)"
        )
    return root


def tour(api_url: str, index: Path, out: Path, *, dandisets: list[str] | None = None) -> list[Path]:
    from dandindex.crawl import Crawler, CrawlOptions
    from dandindex.index import Index

    t0 = time.perf_counter()
    stats = Crawler(
        CrawlOptions(
            api_url=api_url,
            index_dir=str(index),
            nwb=True,
            nwb_workers=4,
            dandisets=dandisets or [],
        )
    ).run()
    say(f"1. crawled {api_url}: {stats.summary()} ({time.perf_counter() - t0:.1f} s)")
    written: list[Path] = []
    with Index(index) as idx:
        rows = idx.sql(
            "SELECT dandiset_id, name, latest_version FROM dandisets ORDER BY dandiset_id"
        ).rows()
        say(f"2. {len(rows)} dandisets; the first ones:")
        for r in rows[:8]:
            say(
                f"   {r['dandiset_id']}  {r['name']}  (latest published: {r['latest_version'] or 'none'})"
            )
        one = next((r for r in rows if r["latest_version"]), rows[0])
        assets = idx.sql(
            "SELECT path, size FROM assets WHERE dandiset_id = $d AND version = 'draft' ORDER BY path LIMIT 5",
            {"d": one["dandiset_id"]},
        ).rows()
        say(f"3. assets of {one['dandiset_id']} (first 5 of the draft):")
        for a in assets:
            say(f"   {a['path']}  {a['size']} bytes")
        versions = idx.sql(
            "SELECT version, name, asset_count, date_published FROM versions WHERE dandiset_id = $d ORDER BY version",
            {"d": one["dandiset_id"]},
        ).rows()
        say(f"4. published versus draft of {one['dandiset_id']}:")
        for v in versions:
            say(
                f"   {v['version']:>14}  {v['asset_count']} assets  published {v['date_published'] or '-'}"
            )
        from dandindex.results import AssetSet

        hits = idx.search(species="mouse", modality="ophys", area="VIS")
        assert isinstance(hits, AssetSet)
        say(f"5. search species=mouse modality=ophys area=VIS: {len(hits)} assets")
        readable = [h for h in hits.handles() if _has_summary(idx, h.asset_id)]
        if not readable:
            say("   no summarised ophys file to stream; stopping the tour here")
            return written
        h = readable[0]
        with h.open() as nwb:
            dff = nwb.processing["ophys"]["DfOverF"]["DfOverF"].data[:1000, :5]
        say(f"6. streamed {h.path}: ΔF/F block {dff.shape}, mean {float(dff.mean()):.3f}")
        out.mkdir(parents=True, exist_ok=True)
        plots = [
            (
                "dff_traces.png",
                h,
                "/processing/ophys/DfOverF/DfOverF",
                {"start": 0, "stop": 1000, "columns": range(5)},
            ),
            ("mean_image.png", h, "/processing/ophys/SummaryImages/mean", {}),
            ("roi_outlines.png", h, "/processing/ophys/ImageSegmentation/PlaneSegmentation", {}),
        ]
        found = idx.search(modality="ecephys", min_units=1)
        assert isinstance(found, AssetSet)
        ephys = [x for x in found.handles() if _has_summary(idx, x.asset_id)]
        if ephys:
            e = ephys[0]
            plots += [
                (
                    "ephys_snippet.png",
                    e,
                    "/acquisition/ElectricalSeries",
                    {"start": 0, "stop": 3000},
                ),
                ("unit_raster.png", e, "/units", {}),
            ]
        for name, handle, path, kwargs in plots:
            fig = handle.plot(path, **kwargs)
            target = out / name
            fig.savefig(target, bbox_inches="tight")
            written.append(target)
            say(f"7. plotted {path} of {handle.path} -> {target}")
    return written


def _has_summary(idx: object, asset_id: str) -> bool:
    rows = idx.sql(  # type: ignore[attr-defined]
        "SELECT 1 FROM nwb_files WHERE asset_id = $a AND error IS NULL", {"a": asset_id}
    ).rows()
    return bool(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", type=Path, default=Path("demo-output"))
    ap.add_argument("--online", action="store_true", help="tour the real archive (needs internet)")
    ap.add_argument("--dandiset", action="append", default=None, help="online: dandisets to crawl")
    args = ap.parse_args(argv)
    os.environ.setdefault("DANDI_NO_ET", "1")
    import warnings

    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="dandindex-demo-") as tmp:
        work = Path(tmp)
        if args.online:
            written = tour(
                "https://api.dandiarchive.org/api",
                work / "index",
                args.out,
                dandisets=args.dandiset or ["000402"],
            )
        else:
            from dandindex.testing.archive import ArchiveServer

            root = build_archive(work)
            with ArchiveServer(root) as srv:
                say(f"local archive server: {srv.api_url}")
                written = tour(srv.api_url, work / "index", args.out)
    say(f"done: {len(written)} pictures in {args.out}/")
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
