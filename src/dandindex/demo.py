"""The offline tour (`make demo`): the DANDI tour, retraced against a local archive.

Builds a local archive: nine generated dandisets (900001-900009) of pynwb-written files,
dandiset 900010 of the real NWB files in ../shared/nwb and the real metadata of the dandisets
in ../shared/corpus (metadata only: the corpus has no files). Serves it as a DANDI API, crawls
it with NWB summaries, then walks what a user does: list dandisets, the assets of one,
published versus draft, search by species, modality and brain area, stream a file and plot
real ophys traces and ROIs, a real Neuropixels-era unit raster and waveforms, and a generated
ephys snippet. Everything stays under ``--out`` (archive/, index/, pictures/) so you can go on
exploring with the commands it prints. ``--online`` runs the same tour on the real archive.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from dandindex.display import counted

SHARED = Path(
    os.environ.get("DANDINDEX_SHARED", Path(__file__).resolve().parents[2].parent / "shared")
)
PORT = 8137
MARK = ".dandindex-demo"  # a folder with this file was made by the tour and may be replaced
REAL_ID = "900010"
GENERATED_IDS = [str(i) for i in range(900001, 900010)]
MEDIA_ID, BIDS_ID = "900011", "900012"  # files that are not NWB: OME-Zarr, TIFF, video; BIDS
# the real files the tour plots, and what it plots of each
REAL_PLOTS: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "real_ophys_traces.png",
        "neuroconv/nwb_test.nwb",
        "/processing/ophys/Fluorescence/RoiResponseSeries",
        {},
    ),
    (
        "real_ophys_rois.png",
        "neuroconv/nwb_test.nwb",
        "/processing/ophys/ImageSegmentation/PlaneSegmentation",
        {},
    ),
    (
        "real_units_raster.png",
        "hdmf-zarr/sub_anm00239123_ses_20170627T093549_ecephys_and_ogen.nwb",
        "/units",
        {},
    ),
    ("real_unit_waveforms.png", "nwb-linkml/aibs.nwb", "/units/waveform_mean", {}),
]
TAXA = {"mus musculus": "10090", "transgenic mouse": "10090", "rattus norvegicus": "10116"}
TAXA |= {"homo sapiens": "9606"}


class Steps:
    """Numbered lines of the tour's log."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, text: str) -> None:
        self.n += 1
        print(f"{self.n:>2}. {text}", flush=True)

    @staticmethod
    def more(text: str) -> None:
        print(f"    {text}", flush=True)


def slug(name: str) -> str:
    """``neuroconv/nwb_test.nwb`` → ``neuroconv-nwb-test`` (an asset path part)."""
    stem = name.removesuffix(".nwb")
    return "".join(c if c.isalnum() else "-" for c in stem).strip("-")


def real_files(nwb_dir: Path) -> tuple[dict[str, Path], dict[str, Any], dict[str, Any]]:
    """The HDF5 files of ../shared/nwb with the modality and species its manifest states."""
    files: dict[str, Path] = {}
    modality: dict[str, str | None] = {}
    species: dict[str, tuple[str, str]] = {}
    for entry in json.loads((nwb_dir / "manifest.json").read_text()):
        if entry.get("format") != "HDF5" or not (nwb_dir / entry["file"]).is_file():
            continue
        key = slug(entry["file"])
        files[key] = nwb_dir / entry["file"]
        text = str(entry.get("modality") or "").lower()
        modality[key] = next(
            (m for m in ("ecephys", "ophys", "icephys", "behavior") if text.startswith(m)), None
        )
        said = str((entry.get("subject") or {}).get("species") or "").strip()
        taxon = TAXA.get(said.lower().rstrip("."))
        if taxon:
            species[key] = (taxon, said)
    return files, modality, species


def prepare(out: Path) -> tuple[Path, Path, Path]:
    """archive/, index/ and pictures/ under `out`, replacing only what an earlier tour made."""
    out.mkdir(parents=True, exist_ok=True)
    parts = out / "archive", out / "index", out / "pictures"
    for p in parts:
        if p.exists():
            if not (p / MARK).exists() and any(p.iterdir()):
                sys.exit(f"{p} exists and was not made by the tour: pick another --out.")
            shutil.rmtree(p)
        p.mkdir()
        (p / MARK).write_text("made by dandindex-demo; replaced by the next tour\n")
    return parts


def build_archive(root: Path, say: Steps) -> bool:
    """The local archive; True when it holds the real files of ../shared/nwb."""
    from dandindex.testing import cohort
    from dandindex.testing.generate import archive_of_files, attachments_from, generate_archive
    from dandindex.testing.nwbfiles import write_all

    generated = write_all(root / "generated-nwb")
    sessions = cohort.write_sessions(root / "generated-nwb" / "cohort")
    generate_archive(
        root,
        n_dandisets=9,
        n_assets=300,
        seed=42,
        nwb_files=attachments_from(generated) + cohort.attachments(sessions),
        first_id=900001,
    )
    said = [
        "generated dandisets 900001-900009 (pynwb-written files, Allen-like visual sessions "
        "for docs/cohort.ipynb among them)"
    ]
    from dandindex.testing.mediaarchive import archive_of_media

    archive_of_media(root, root / "generated-media", MEDIA_ID, BIDS_ID)
    said.append(f"{MEDIA_ID}-{BIDS_ID}: OME-Zarr, TIFF and video files, a BIDS dataset")
    real = (SHARED / "nwb" / "manifest.json").is_file()
    if real:
        files, modality, species = real_files(SHARED / "nwb")
        archive_of_files(
            root,
            files,
            dandiset_id=REAL_ID,
            seed=7,
            species=species,
            modalities=modality,
            name="Real NWB files from many writers and versions (../shared/nwb)",
        )
        said.append(f"{REAL_ID}: {len(files)} real NWB files of {SHARED / 'nwb'}")
    corpus = SHARED / "corpus" / "dandisets"
    if corpus.is_dir():
        linked = sorted(corpus.iterdir())
        for d in linked:
            os.symlink(d.resolve(), root / "dandisets" / d.name)
        said.append(f"the real metadata of {len(linked)} dandisets of {corpus.parent}")
    if not real:
        said.append(f"({SHARED} not found: generated data only)")
    say("archive: " + "; ".join(said))
    return real


def serve(root: Path, port: int = PORT) -> Any:
    """The archive server on the tour's port (a free one if that is taken)."""
    from dandindex.testing.archive import ArchiveServer

    try:
        return ArchiveServer(root, port=port)
    except OSError:
        return ArchiveServer(root, port=0)


def crawl(
    api_url: str, index: Path, say: Steps, *, dandisets: list[str], nwb_dandisets: list[str]
) -> None:
    from dandindex.crawl import Crawler, CrawlOptions

    stats = Crawler(
        CrawlOptions(
            api_url=api_url,
            index_dir=str(index),
            nwb=True,
            nwb_workers=4,
            dandisets=dandisets,
            nwb_dandisets=nwb_dandisets,
        )
    ).run()
    from dandindex.display import duration_text
    from dandindex.index import Index

    with Index(index) as idx:
        took = duration_text(idx.manifest.get("crawl_started"), idx.manifest.get("crawl_finished"))
        say(
            f"crawled {api_url}{took.replace('(', 'in ').replace(')', '')} (start to new "
            f"snapshot, as `dandindex info` says): {stats.dandisets_total} dandisets, "
            f"{stats.assets:,} assets, {stats.requests} API requests"
        )
        row = idx.sql(
            """SELECT count(*) FILTER (error IS NULL),
                      count(*) FILTER (error IS NULL AND dandiset_id = $real),
                      count(*) FILTER (error LIKE '%HTTP 404%'),
                      count(*) FILTER (error IS NOT NULL AND error NOT LIKE '%HTTP 404%')
               FROM nwb_files""",
            {"real": REAL_ID},
        ).rows()[0]
    ok, real, missing, bad = row.values()
    say.more(
        f"NWB files: {ok} summarised ({real} of them the real files of {REAL_ID}), "
        f"{stats.nwb_bytes / 1e6:.1f} MB streamed"
    )
    if missing:
        say.more(f"{missing} generated assets have no file on this server (HTTP 404): error rows")
    if bad:
        say.more(f"{bad} files could not be read: error rows with the reason (nwb_files.error)")
    if stats.nwb_not_read:
        say.more(f"{stats.nwb_not_read:,} NWB assets of the corpus indexed from metadata only")
    described = stats.files_done - stats.files_failed - stats.files_missing
    say.more(
        f"other files: {described} described from their headers (OME-Zarr, TIFF, video, BIDS; "
        f"{stats.files_bytes / 1e6:.1f} MB read), {stats.files_failed} that could not be read "
        f"(damaged, too large: error rows say why), {stats.files_missing:,} not on this server "
        "(metadata only)"
    )


def explore(idx: Any, say: Steps) -> None:
    """What a user looks at first: dandisets, assets, versions, searches."""
    from dandindex.display import human_size

    rows = idx.sql(
        "SELECT dandiset_id, name, latest_version FROM dandisets ORDER BY dandiset_id"
    ).rows()
    say(f"{len(rows)} dandisets; the first ones:")
    for r in rows[:6]:
        say.more(f"{r['dandiset_id']}  {r['name'][:70]}")
    one = next((r for r in rows if r["latest_version"]), rows[0])
    assets = idx.sql(
        "SELECT path, size FROM assets WHERE dandiset_id = $d AND version = 'draft' "
        "ORDER BY path LIMIT 4",
        {"d": one["dandiset_id"]},
    ).rows()
    say(f"assets of {one['dandiset_id']} (the first 4 of the draft):")
    for a in assets:
        say.more(f"{human_size(a['size']):>9}  {a['path']}")
    versions = idx.sql(
        "SELECT version, asset_count, date_published FROM versions WHERE dandiset_id = $d "
        "ORDER BY version",
        {"d": one["dandiset_id"]},
    ).rows()
    say(f"published versus draft of {one['dandiset_id']}:")
    for v in versions:
        when = str(v["date_published"])[:10] if v["date_published"] else "not published"
        say.more(f"{v['version']:>14}  {v['asset_count']:>5} assets  {when}")
    searches: list[tuple[str, dict[str, Any]]] = [
        ("species=mouse modality=ophys area=VIS", {"species": "mouse", "modality": "ophys", "area": "VIS"}),
        ("area=thalamus", {"area": "thalamus"}),
        ("type=Units min_units=10", {"type": "Units", "min_units": 10}),
        ("file_format=ome-zarr voxel_max=1um", {"file_format": "ome-zarr", "voxel_max": "1um"}),
        ("file_format=video fps_min=50", {"file_format": "video", "fps_min": 50}),
        ("bids=SamplingFrequency=1000", {"bids": "SamplingFrequency=1000"}),
    ]  # fmt: skip
    for label, keywords in searches:
        hits = idx.search(**keywords)
        dandisets = sorted({r["dandiset_id"] for r in hits.rows()})
        say(
            f"search {label}: {counted(len(hits), 'asset')} in {counted(len(dandisets), 'dandiset')} "
            f"({', '.join(dandisets[:5])}{', ...' if len(dandisets) > 5 else ''})"
        )
    from dandindex import queries

    cohort = queries.run(idx, "visual_cohort", {}).rows()  # type: ignore[attr-defined]
    say(
        "a cohort for the tour's question (visual areas during natural scenes, and running): "
        f"{counted(len(cohort), 'session')} (query visual_cohort; docs/cohort.ipynb walks it)"
    )
    for r in cohort[:4]:
        together = "  areas recorded together" if r["simultaneous"] else ""
        say.more(f"{r['dandiset_id']}  {', '.join(r['areas']):<12} {r['minutes']} min{together}")


def pictures(idx: Any, folder: Path, say: Steps, *, real: bool, online: bool) -> list[Path]:
    """Stream files and plot them: real files where ../shared has them, generated ones else
    (online: the first matching files of the crawled dandisets)."""
    jobs: list[tuple[str, Any, str | None, dict[str, Any]]] = []
    if real:
        by_path = {
            r["path"]: r["asset_id"]
            for r in idx.sql(
                "SELECT path, asset_id FROM assets WHERE dandiset_id = $d", {"d": REAL_ID}
            ).rows()
        }
        for name, file, obj, kwargs in REAL_PLOTS:
            path = next((p for p in by_path if p.endswith(f"_{slug(file)}.nwb")), None)
            if path is not None:
                jobs.append((name, idx.asset(by_path[path]), obj, kwargs))
    where = {} if online else {"dandiset": GENERATED_IDS}
    prefix = "" if online else "generated_"
    ephys = idx.search(type="ElectricalSeries", **where)
    ophys = idx.search(type="PlaneSegmentation", **where)
    more: list[tuple[str, Any, str | None, dict[str, Any]]] = [
        ("ephys_snippet.png", ephys, "/acquisition/ElectricalSeries", {"stop": 3000}),
        ("dff_traces.png", ophys, "/processing/ophys/DfOverF/DfOverF", {"stop": 1000, "columns": range(6)}),
    ]  # fmt: skip
    if not real:
        more += [
            ("roi_outlines.png", ophys, "/processing/ophys/ImageSegmentation/PlaneSegmentation", {}),
            ("unit_raster.png", ephys, "/units", {}),
        ]  # fmt: skip
    for name, hits, what, kwargs in more:
        if len(hits):
            jobs.append((prefix + name, hits[0], what, kwargs))
    if not online:  # files that are not NWB: previews, and pose keypoints on their video
        volume = idx.search(file_format="ome-zarr", channel="GFP", dandiset=MEDIA_ID)
        video = idx.search(file_format="mp4", fps_min=50, dandiset=MEDIA_ID)
        pose = idx.search(type="PoseEstimation", dandiset=MEDIA_ID)
        media: list[tuple[str, Any, str | None, dict[str, Any]]] = [
            ("omezarr_preview.png", volume, None, {}),
            ("video_frame.png", video, None, {"start": 2.0}),
            ("pose_on_video.png", pose, "/processing/behavior/PoseEstimation", {"start": 120}),
        ]
        for name, hits, what, kwargs in media:
            if len(hits):
                jobs.append((name, hits[0], what, kwargs))
    written = []
    for name, handle, obj_path, kwargs in jobs:
        fig = handle.plot(obj_path, **kwargs)
        target = folder / name
        fig.savefig(target, bbox_inches="tight", dpi=100)
        written.append(target)
    files = len({j[1].asset_id for j in jobs})
    say(f"streamed {counted(files, 'file')} and plotted {counted(len(written), 'object')}:")
    for (_, handle, shown, _), target in zip(jobs, written, strict=True):
        what = shown or "a preview"
        say.more(f"{target}  ← {what} of {handle.dandiset_id}/{handle.path}")
    return written


def tour(
    api_url: str,
    index: Path,
    folder: Path,
    say: Steps,
    *,
    real: bool,
    dandisets: list[str] | None = None,
    nwb_dandisets: list[str] | None = None,
) -> list[Path]:
    from dandindex.index import Index

    crawl(api_url, index, say, dandisets=dandisets or [], nwb_dandisets=nwb_dandisets or [])
    with Index(index) as idx:
        explore(idx, say)
        return pictures(idx, folder, say, real=real, online=dandisets is not None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", type=Path, default=Path("demo-output"))
    ap.add_argument("--online", action="store_true", help="tour the real archive (needs internet)")
    ap.add_argument("--dandiset", action="append", default=None, help="online: dandisets to crawl")
    ap.add_argument("--port", type=int, default=PORT, help="the local archive's port")
    args = ap.parse_args(argv)
    os.environ.setdefault("DANDI_NO_ET", "1")
    import warnings

    warnings.simplefilter("ignore")
    say = Steps()
    archive, index, folder = prepare(args.out.resolve())
    if args.online:
        written = tour(
            "https://api.dandiarchive.org/api",
            index,
            folder,
            say,
            real=False,
            dandisets=args.dandiset or ["000402"],
        )
        return 0 if written else 1
    real = build_archive(archive, say)
    with serve(archive, args.port) as srv:
        say(f"local DANDI API: {srv.api_url} (serving {archive})")
        written = tour(
            srv.api_url,
            index,
            folder,
            say,
            real=real,
            nwb_dandisets=GENERATED_IDS + [REAL_ID, MEDIA_ID, BIDS_ID],
        )
    port = srv.api_url.rsplit(":", 1)[1].split("/")[0]
    print(
        f"\nDone: {len(written)} pictures in {folder}. Go on exploring:\n"
        f"  export DANDINDEX_INDEX={index}\n"
        "  dandindex info\n"
        "  dandindex search --area thalamus\n"
        "  dandindex search --has natural_scenes_presentations --has running_speed\n"
        "  dandindex query run visual_cohort --format table\n"
        f"  dandindex show {REAL_ID}/<path from the search>\n"
        f"To stream and plot, serve the archive again (in another terminal):\n"
        f"  dandindex serve-archive {archive} --port {port}\n"
        f"  dandindex plot {REAL_ID}/<path> /units --out raster.png",
        flush=True,
    )
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
