"""Large synthetic indexes written straight with pyarrow (no server, no crawl), for the
search benchmark and for tests that need more rows than a crawl would make quickly.

`write_index(root, n_assets, n_objects, n_locations, n_dandisets)` writes
``root/snapshots/bench/*.parquet`` and a manifest, as a crawl would (without the facet tables).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dandindex.store import BATCH_ROWS  # the crawl writes row groups of this size

TAXA = ["10090", "9606", "10116", "9544", "7227", "6239", "7955"]
SPECIES = [
    "Mus musculus - House mouse",
    "Homo sapiens - Human",
    "Rattus norvegicus - Norway rat",
    "Macaca mulatta - Rhesus monkey",
    "Drosophila melanogaster - Fruit fly",
    "Caenorhabditis elegans",
    "Danio rerio - Zebra fish",
]
AREAS = [
    "CA1",
    "VISp",
    "DG",
    "MOp",
    "VISl",
    "LGd",
    "CA3",
    "SSp",
    "area: VISp, depth: 175",
    "V1",
    "unknown",
    "hippocampus",
    "TH",
    "VISal",
    "ACA",
    "head ganglia",
    "PL",
    "ENTm",
    "MOs",
    "STR",
]
TYPES = [
    ("ElectricalSeries", ["TimeSeries", "NWBDataInterface", "NWBContainer", "Container"]),
    ("Units", ["DynamicTable", "Container"]),
    (
        "TwoPhotonSeries",
        ["ImageSeries", "TimeSeries", "NWBDataInterface", "NWBContainer", "Container"],
    ),
    ("RoiResponseSeries", ["TimeSeries", "NWBDataInterface", "NWBContainer", "Container"]),
    ("PlaneSegmentation", ["DynamicTable", "Container"]),
    (
        "VoltageClampSeries",
        ["PatchClampSeries", "TimeSeries", "NWBDataInterface", "NWBContainer", "Container"],
    ),
    ("SpatialSeries", ["TimeSeries", "NWBDataInterface", "NWBContainer", "Container"]),
    ("VectorData", ["Data"]),
    ("ImagingPlane", ["NWBContainer", "Container"]),
    ("ProcessingModule", ["NWBContainer", "Container"]),
]
APPROACH = [
    ["electrophysiological approach"],
    ["microscopy approach; cell population imaging"],
    ["behavioral approach"],
    [],
]
RATES = [30000.0, 1000.0, 30.0, 20000.0, 50.0]
#: where each type's objects are (as files hold them; `{j}` a small number), and columns
PLACES = [
    "/acquisition/ElectricalSeries{j}",
    "/units",
    "/acquisition/TwoPhotonSeries",
    "/processing/ophys/DfOverF/RoiResponseSeries{j}",
    "/processing/ophys/ImageSegmentation/PlaneSegmentation",
    "/acquisition/sweep_{j}",
    "/processing/behavior/Position/running_speed{j}",
    "/intervals/natural_scenes_presentations",
    "/general/optophysiology/ImagingPlane",
    "/processing/behavior",
]
COLUMNS = {1: ["spike_times", "quality", "electrodes"], 4: ["image_mask"],
           7: ["start_time", "stop_time", "frame"]}  # fmt: skip


FORMATS = ["ome-zarr", "tiff", "ome-tiff", "video", "nifti"]
CHANNELS = ["DAPI", "GFP", "NeuN", "tdTomato", "Cy5"]
BIDS = ["SamplingFrequency=1000", "SamplingFrequency=512.0", "TaskName=rest", "TaskName=Motor",
        "PowerLineFrequency=60", "participant.sex=F", "Manufacturer=LaVision"]  # fmt: skip
PUBLISHED = "0.240101.0000"  # a published version of every tenth dandiset (half its assets)


def write_index(
    root: Path, n_assets: int, n_objects: int, n_locations: int, n_dandisets: int, seed: int = 0
) -> None:
    """An index of `n_assets` NWB-named assets (a tenth of them also described as other
    formats in ``file_summaries``: OME-Zarr, TIFF, video, BIDS values), every tenth dandiset
    with a published version holding the first half of its assets too."""
    from dandindex.schemas import SCHEMAS

    rng = np.random.default_rng(seed)
    snap = root / "snapshots" / "bench"
    snap.mkdir(parents=True, exist_ok=True)
    ds_ids = np.array([f"{i + 1:06d}" for i in range(n_dandisets)])
    asset_ds = np.sort(rng.integers(0, n_dandisets, n_assets))
    asset_ids = np.array([f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(n_assets)])
    sp = rng.integers(0, len(TAXA), n_assets)
    mod = asset_ds % len(APPROACH)
    sizes = rng.integers(10**5, 10**10, n_assets)
    batch = 200_000
    with pq.ParquetWriter(snap / "assets.parquet", SCHEMAS["assets"], compression="zstd") as w:
        for s in range(0, n_assets, batch):
            e = min(n_assets, s + batch)
            n = e - s
            w.write_table(
                pa.table(
                    {
                        "asset_id": asset_ids[s:e],
                        "dandiset_id": ds_ids[asset_ds[s:e]],
                        "version": ["draft"] * n,
                        "path": [
                            f"sub-{i % 997}/sub-{i % 997}_ses-{i}_ecephys.nwb" for i in range(s, e)
                        ],
                        "size": sizes[s:e],
                        "blob_id": asset_ids[s:e],
                        "zarr_id": [None] * n,
                        "encoding_format": ["application/x-nwb"] * n,
                        "created": [None] * n,
                        "modified": [None] * n,
                        "sha256": [None] * n,
                        "etag": [None] * n,
                        "zarr_checksum": [None] * n,
                        "api_url": [
                            f"http://127.0.0.1/api/assets/{a}/download/" for a in asset_ids[s:e]
                        ],
                        "s3_url": [None] * n,
                        "subject_id": [str(i % 997) for i in range(s, e)],
                        "session_id": [str(i) for i in range(s, e)],
                        "species": [SPECIES[k] for k in sp[s:e]],
                        "species_id": [
                            f"http://purl.obolibrary.org/obo/NCBITaxon_{TAXA[k]}" for k in sp[s:e]
                        ],
                        "sex": ["Male"] * n,
                        "age": ["P90D"] * n,
                        "age_days": [90.0] * n,
                        "genotype": [None] * n,
                        "strain": [None] * n,
                        "approach": [APPROACH[k] for k in mod[s:e]],
                        "measurement_technique": [[]] * n,
                        "variable_measured": [[]] * n,
                        "anatomy": [[]] * n,
                        "session_start": [None] * n,
                        "schema_version": ["0.6.4"] * n,
                        "metadata_json": ["{}"] * n,
                    },
                    schema=SCHEMAS["assets"],
                ),
                row_group_size=BATCH_ROWS,
            )
        for d in range(0, n_dandisets, 10):  # published versions: the first half again
            mine = np.flatnonzero(asset_ds == d)
            keep = mine[: (len(mine) + 1) // 2]
            if not len(keep):
                continue
            w.write_table(_published(keep, asset_ids, ds_ids, asset_ds, sizes, sp, mod, SCHEMAS))
    _file_summaries(snap, rng, asset_ids, ds_ids, asset_ds, SCHEMAS)
    obj_asset = np.sort(rng.integers(0, n_assets, n_objects))
    obj_type = rng.integers(0, len(TYPES), n_objects)
    with pq.ParquetWriter(
        snap / "nwb_objects.parquet", SCHEMAS["nwb_objects"], compression="zstd"
    ) as w:
        for s in range(0, n_objects, 1_000_000):
            e = min(n_objects, s + 1_000_000)
            n = e - s
            t = obj_type[s:e]
            w.write_table(
                pa.table(
                    {
                        "asset_id": asset_ids[obj_asset[s:e]],
                        "path": [PLACES[k].format(j=j % 7) for j, k in enumerate(t)],
                        "neurodata_type": [TYPES[k][0] for k in t],
                        "namespace": ["core"] * n,
                        "base_types": [TYPES[k][1] for k in t],
                        "parent_path": ["/acquisition"] * n,
                        "object_id": [None] * n,
                        "is_dataset": [False] * n,
                        "shape": [[1000, 32]] * n,
                        "dtype": ["int16"] * n,
                        "chunks": [None] * n,
                        "compression": [None] * n,
                        "unit": ["volts"] * n,
                        "conversion": [1.0] * n,
                        "rate": [
                            RATES[k % len(RATES)] if k in (0, 2, 3, 5, 6) else None for k in t
                        ],
                        "starting_time": [0.0] * n,
                        "n_timestamps": [None] * n,
                        "n_rows": [None] * n,
                        "description": [None] * n,
                        "columns": [COLUMNS.get(k) for k in t],
                        "external_files": [None] * n,
                        "t_start": [None] * n,
                        "t_stop": [None] * n,
                        "duration": [
                            1000 / RATES[k % len(RATES)] if k in (0, 2, 3, 5, 6) else None
                            for k in t
                        ],  # fmt: skip
                    },
                    schema=SCHEMAS["nwb_objects"],
                ),
                row_group_size=BATCH_ROWS,
            )
    loc_asset = np.sort(rng.integers(0, n_assets, n_locations))
    loc_area = rng.integers(0, len(AREAS), n_locations)
    pq.write_table(
        pa.table(
            {
                "asset_id": asset_ids[loc_asset],
                "source": ["electrodes"] * n_locations,
                "object_path": ["/general/extracellular_ephys/electrodes"] * n_locations,
                "location": [AREAS[k] for k in loc_area],
                "count": rng.integers(1, 64, n_locations),
            },
            schema=SCHEMAS["nwb_locations"],
        ),
        snap / "nwb_locations.parquet",
        compression="zstd",
        row_group_size=BATCH_ROWS,
    )
    units = rng.integers(0, 500, n_assets)
    cols = {f.name: pa.nulls(n_assets, f.type) for f in SCHEMAS["nwb_files"]}
    cols.update(
        {
            "asset_id": pa.array(asset_ids),
            "dandiset_id": pa.array(ds_ids[asset_ds]),
            "summary_key": pa.array(asset_ids),
            "n_units": pa.array(units),
            "n_electrodes": pa.array(rng.integers(0, 384, n_assets)),
            "duration": pa.array(
                np.where(rng.random(n_assets) < 0.2, np.nan, rng.uniform(10, 7200, n_assets)),
                from_pandas=True,
            ),
            "experimenters": pa.array([[]] * n_assets, pa.list_(pa.string())),
            "keywords": pa.array([[]] * n_assets, pa.list_(pa.string())),
            "neurodata_types": pa.array([[]] * n_assets, pa.list_(pa.string())),
            "metadata_ranges": pa.array([[]] * n_assets, pa.list_(pa.list_(pa.int64()))),
        }
    )
    pq.write_table(
        pa.table(cols, schema=SCHEMAS["nwb_files"]),
        snap / "nwb_files.parquet",
        compression="zstd",
        row_group_size=BATCH_ROWS,
    )
    dsets = pa.table(
        {
            "dandiset_id": ds_ids,
            "name": [f"Dataset {d} about {AREAS[i % len(AREAS)]}" for i, d in enumerate(ds_ids)],
            "created": pa.nulls(n_dandisets, pa.timestamp("us", tz="UTC")),
            "modified": pa.nulls(n_dandisets, pa.timestamp("us", tz="UTC")),
            "embargo_status": ["OPEN"] * n_dandisets,
            "contact_person": ["X"] * n_dandisets,
            "draft_version": ["draft"] * n_dandisets,
            "latest_version": [PUBLISHED if i % 10 == 0 else None for i in range(n_dandisets)],
            "star_count": [0] * n_dandisets,
            "asset_count": [0] * n_dandisets,
            "size": [0] * n_dandisets,
            "versions_indexed": [
                [PUBLISHED, "draft"] if i % 10 == 0 else ["draft"] for i in range(n_dandisets)
            ],  # fmt: skip
        },
        schema=SCHEMAS["dandisets"],
    )
    pq.write_table(dsets, snap / "dandisets.parquet")
    vcols = {f.name: pa.nulls(n_dandisets, f.type) for f in SCHEMAS["versions"]}
    for f in SCHEMAS["versions"]:
        if pa.types.is_list(f.type):
            vcols[f.name] = pa.array([[]] * n_dandisets, f.type)
    vcols.update(
        {
            "dandiset_id": pa.array(ds_ids),
            "version": pa.array(["draft"] * n_dandisets),
            "name": dsets["name"],
            "description": pa.array(["synthetic"] * n_dandisets),
            "metadata_json": pa.array(["{}"] * n_dandisets),
        }
    )
    pq.write_table(pa.table(vcols, schema=SCHEMAS["versions"]), snap / "versions.parquet")
    published = sorted({int(d) for d in range(0, n_dandisets, 10)})
    if published:
        vpub = pa.table(vcols, schema=SCHEMAS["versions"]).take(pa.array(published))
        at = vpub.schema.get_field_index("version")
        vpub = vpub.set_column(at, vpub.schema.field(at), pa.array([PUBLISHED] * len(published)))
        both = pa.concat_tables([pa.table(vcols, schema=SCHEMAS["versions"]), vpub])
        pq.write_table(both.sort_by([("dandiset_id", "ascending"), ("version", "ascending")]),
                       snap / "versions.parquet")  # fmt: skip
    for name in ("contributors", "crawl_errors", "file_links"):
        pq.write_table(SCHEMAS[name].empty_table(), snap / f"{name}.parquet")
    counts = {name: pq.ParquetFile(snap / f"{name}.parquet").metadata.num_rows for name in SCHEMAS}
    (root / "manifest.json").write_text(
        json.dumps(
            {
                "format": "dandindex-index",
                "snapshot": "snapshots/bench",
                "api_url": "http://bench/api",
                "row_counts": counts,
                "dandisets": {},
            }
        )
    )


def _asset_columns(
    idx: np.ndarray, version: str, asset_ids: np.ndarray, ds_ids: np.ndarray,
    asset_ds: np.ndarray, sizes: np.ndarray, sp: np.ndarray, mod: np.ndarray,
) -> dict[str, object]:  # fmt: skip
    n = len(idx)
    return {
        "asset_id": asset_ids[idx],
        "dandiset_id": ds_ids[asset_ds[idx]],
        "version": [version] * n,
        "path": [f"sub-{i % 997}/sub-{i % 997}_ses-{i}_ecephys.nwb" for i in idx],
        "size": sizes[idx],
        "blob_id": asset_ids[idx],
        "encoding_format": ["application/x-nwb"] * n,
        "api_url": [f"http://127.0.0.1/api/assets/{a}/download/" for a in asset_ids[idx]],
        "subject_id": [str(i % 997) for i in idx],
        "session_id": [str(i) for i in idx],
        "species": [SPECIES[k] for k in sp[idx]],
        "species_id": [f"http://purl.obolibrary.org/obo/NCBITaxon_{TAXA[k]}" for k in sp[idx]],
        "approach": [APPROACH[k] for k in mod[idx]],
        "schema_version": ["0.6.4"] * n,
        "metadata_json": ["{}"] * n,
    }


def _published(
    idx: np.ndarray, asset_ids: np.ndarray, ds_ids: np.ndarray, asset_ds: np.ndarray,
    sizes: np.ndarray, sp: np.ndarray, mod: np.ndarray, schemas: dict[str, pa.Schema],
) -> pa.Table:  # fmt: skip
    """The rows of `idx`'s assets in the published version (other columns null/empty)."""
    schema = schemas["assets"]
    given = _asset_columns(idx, PUBLISHED, asset_ids, ds_ids, asset_ds, sizes, sp, mod)
    cols = {}
    for f in schema:
        if f.name in given:
            cols[f.name] = pa.array(given[f.name], f.type)
        elif pa.types.is_list(f.type):
            cols[f.name] = pa.array([[]] * len(idx), f.type)
        else:
            cols[f.name] = pa.nulls(len(idx), f.type)
    return pa.table(cols, schema=schema)


def _file_summaries(
    snap: Path, rng: np.random.Generator, asset_ids: np.ndarray, ds_ids: np.ndarray,
    asset_ds: np.ndarray, schemas: dict[str, pa.Schema],
) -> None:  # fmt: skip
    """file_summaries rows for a tenth of the assets: formats, voxel sizes, channels, frame
    rates, durations and BIDS values drawn at random."""
    pick = np.flatnonzero(rng.random(len(asset_ids)) < 0.1)
    n = len(pick)
    fmt = rng.integers(0, len(FORMATS), n)
    video = np.array([FORMATS[k] == "video" for k in fmt])
    image = np.array([FORMATS[k] in ("ome-zarr", "tiff", "ome-tiff") for k in fmt])
    schema = schemas["file_summaries"]
    given = {
        "asset_id": asset_ids[pick],
        "dandiset_id": ds_ids[asset_ds[pick]],
        "format": [FORMATS[k] for k in fmt],
        "voxel_um": np.where(image, np.round(rng.uniform(0.1, 5, n), 3), np.nan),
        "channels": [
            [CHANNELS[j] for j in sorted(set(rng.integers(0, len(CHANNELS), 2)))] if im else []
            for im in image
        ],  # fmt: skip
        "fps": np.where(video, rng.choice([25.0, 30.0, 60.0, 120.0], n), np.nan),
        "duration": np.where(video, rng.uniform(10, 3600, n), np.nan),
        "bids_entities": [["sub=1", "stain=Lectin"] if k == 4 else [] for k in fmt],
        "bids": [
            [BIDS[j] for j in sorted(set(rng.integers(0, len(BIDS), 3)))] if k == 4 else []
            for k in fmt
        ],  # fmt: skip
        "bids_datatype": ["anat" if k == 4 else None for k in fmt],
    }
    cols = {}
    for f in schema:
        if f.name in given:
            cols[f.name] = pa.array(given[f.name], f.type, from_pandas=True)
        elif pa.types.is_list(f.type):
            cols[f.name] = pa.array([[]] * n, f.type)
        else:
            cols[f.name] = pa.nulls(n, f.type)
    pq.write_table(pa.table(cols, schema=schema), snap / "file_summaries.parquet",
                   compression="zstd", row_group_size=BATCH_ROWS)  # fmt: skip
