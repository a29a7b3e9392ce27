"""Real NWB files written with pynwb, as users write them (data first, then metadata).

Each writer returns the path it wrote and takes a `scale` that grows the bulk data (samples,
frames) without changing the object tree, so the same code makes KB-sized test fixtures and
GB-sized benchmark files. pynwb is imported inside the functions.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SESSION_START = datetime(2023, 8, 28, 21, 22, 39, tzinfo=timezone.utc)

# Brain areas as labs write them; the electrode count per area is what indexes must report.
ECEPHYS_AREAS = {"CA1": 6, "VISp": 4, "area: VISp, depth: 175": 2, "DG": 4}
N_ELECTRODES = sum(ECEPHYS_AREAS.values())
N_UNITS = 8  # sorted units of the ecephys file; unit u sits on electrode u % N_ELECTRODES
N_ROIS = 12  # ROIs of the ophys file


def _base(
    identifier: str,
    description: str,
    subject_id: str,
    species: str = "Mus musculus",
    **extra: Any,
) -> Any:
    from pynwb import NWBFile
    from pynwb.file import Subject

    return NWBFile(
        session_description=description,
        identifier=identifier,
        session_start_time=SESSION_START,
        experimenter=["Lovelace, Ada", "Hopper, Grace"],
        lab="Synthetic Lab",
        institution="dandindex test suite",
        keywords=["synthetic", "dandindex"],
        subject=Subject(
            subject_id=subject_id,
            species=species,
            sex="M",
            age="P90D",
            genotype="wild type",
            description="synthetic subject",
        ),
        **extra,
    )


def _write(nwbfile: Any, path: Path) -> Path:
    from pynwb import NWBHDF5IO

    path.parent.mkdir(parents=True, exist_ok=True)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


def write_ecephys(path: str | Path, *, scale: int = 1, seed: int = 0) -> Path:
    """Electrodes in named areas, raw ElectricalSeries, LFP, and sorted Units."""
    import numpy as np
    from pynwb.ecephys import LFP, ElectricalSeries, SpikeEventSeries

    rng = np.random.default_rng(seed)
    nwb = _base("ecephys-synthetic", "extracellular recording in hippocampus and V1", "ecephys01")
    device = nwb.create_device(name="probe0", description="silicon probe")
    row = 0
    for i, (area, n) in enumerate(ECEPHYS_AREAS.items()):
        group = nwb.create_electrode_group(
            name=f"shank{i}", description=f"shank in {area}", location=area, device=device
        )
        for _ in range(n):
            nwb.add_electrode(group=group, location=area, x=float(row), y=0.0, z=float(i))
            row += 1
    n_ch = row
    region = nwb.create_electrode_table_region(list(range(n_ch)), "all electrodes")
    n_samples = 3000 * scale
    raw = ElectricalSeries(
        name="ElectricalSeries",
        data=rng.integers(-300, 300, size=(n_samples, n_ch), dtype=np.int16),
        electrodes=region,
        rate=30000.0,
        starting_time=0.0,
        conversion=0.195e-6,
        description="raw voltage",
    )
    nwb.add_acquisition(raw)
    lfp_series = ElectricalSeries(
        name="LFP",
        data=rng.normal(size=(n_samples // 30 + 10, n_ch)).astype(np.float32),
        electrodes=region,
        rate=1000.0,
        description="lfp",
    )
    module = nwb.create_processing_module("ecephys", "processed extracellular data")
    module.add(LFP(electrical_series=lfp_series))
    nwb.add_unit_column("quality", "sorting quality")
    for u in range(N_UNITS):
        spikes = np.sort(rng.uniform(0, n_samples / 30000.0, size=20 + 5 * u))
        nwb.add_unit(
            spike_times=spikes,
            electrodes=[u % n_ch],
            quality="good" if u % 2 == 0 else "mua",
            waveform_mean=rng.normal(size=(40, 1)).astype(np.float32),
        )
    events_region = nwb.create_electrode_table_region(list(range(4)), "first four electrodes")
    n_events = 30
    snippet = np.sin(np.linspace(0, 3 * np.pi, 32)) * -80
    nwb.add_acquisition(
        SpikeEventSeries(
            name="SpikeEvents_shank0",
            data=(snippet[None, None, :] + rng.normal(scale=8, size=(n_events, 4, 32))).astype(
                np.int16
            ),
            timestamps=np.sort(rng.uniform(0, n_samples / 30000.0, n_events)),
            electrodes=events_region,
            conversion=1e-6,
            description="threshold crossings on shank0",
        )
    )
    return _write(nwb, Path(path))


def write_ophys(path: str | Path, *, scale: int = 1, seed: int = 0) -> Path:
    """A 2-photon imaging plane in VISp, raw frames, ROIs, Fluorescence and DfOverF."""
    import numpy as np
    from pynwb.base import Images
    from pynwb.image import GrayscaleImage
    from pynwb.ophys import (
        DfOverF,
        Fluorescence,
        ImageSegmentation,
        OpticalChannel,
        TwoPhotonSeries,
    )

    rng = np.random.default_rng(seed)
    nwb = _base("ophys-synthetic", "two-photon imaging in primary visual cortex", "ophys01")
    device = nwb.create_device(name="Microscope", description="2p microscope")
    channel = OpticalChannel(name="OpticalChannel", description="green", emission_lambda=510.0)
    plane = nwb.create_imaging_plane(
        name="ImagingPlane",
        optical_channel=channel,
        imaging_rate=30.0,
        description="layer 2/3",
        device=device,
        excitation_lambda=920.0,
        indicator="GCaMP6f",
        location="VISp",
        grid_spacing=[0.8, 0.8],
        grid_spacing_unit="micrometers",
    )
    h = w = 32
    n_frames = 1200 * scale
    frames = rng.integers(0, 4096, size=(n_frames, h, w), dtype=np.uint16)
    nwb.add_acquisition(
        TwoPhotonSeries(
            name="TwoPhotonSeries",
            data=frames,
            imaging_plane=plane,
            rate=30.0,
            unit="normalized amplitude",
        )
    )
    module = nwb.create_processing_module("ophys", "optical physiology processed data")
    seg = ImageSegmentation()
    module.add(seg)
    ps = seg.create_plane_segmentation(
        name="PlaneSegmentation", description="ROIs", imaging_plane=plane
    )
    n_rois = N_ROIS
    for r in range(n_rois):
        mask = np.zeros((h, w), dtype=np.float32)
        y, x = 3 + (r // 4) * 9, 3 + (r % 4) * 7
        mask[y : y + 5, x : x + 5] = 1.0
        ps.add_roi(image_mask=mask)
    traces = rng.normal(1.0, 0.1, size=(n_frames, n_rois)).astype(np.float32)
    fl = Fluorescence(name="Fluorescence")
    module.add(fl)
    dff = DfOverF(name="DfOverF")
    module.add(dff)
    for container, name, data, unit in (
        (fl, "RoiResponseSeries", traces, "lumens"),
        (dff, "DfOverF", traces - 1.0, "n.a."),
    ):
        rois = ps.create_roi_table_region(region=list(range(n_rois)), description="all ROIs")
        container.create_roi_response_series(name=name, data=data, rois=rois, rate=30.0, unit=unit)
    mean = frames[: min(n_frames, 200)].mean(axis=0)
    images = Images(name="SummaryImages", description="summary images of the plane")
    images.add_image(GrayscaleImage(name="mean", data=mean))
    images.add_image(
        GrayscaleImage(name="max", data=frames[: min(n_frames, 200)].max(axis=0).astype(float))
    )
    module.add(images)
    return _write(nwb, Path(path))


def write_icephys(path: str | Path, *, scale: int = 1, seed: int = 0) -> Path:
    """Whole-cell patch clamp: current and voltage clamp sweeps with stimuli."""
    import numpy as np
    from pynwb.icephys import CurrentClampSeries, CurrentClampStimulusSeries, VoltageClampSeries

    rng = np.random.default_rng(seed)
    nwb = _base("icephys-synthetic", "patch clamp in motor cortex slices", "icephys01")
    device = nwb.create_device(name="Amplifier", description="patch amplifier")
    elec = nwb.create_icephys_electrode(
        name="elec0", description="patch pipette", device=device, location="MOp"
    )
    n = 2000 * scale
    for sweep in range(3):
        stim = CurrentClampStimulusSeries(
            name=f"stimulus_{sweep}",
            data=np.full(n, 1e-10 * (sweep + 1)),
            starting_time=sweep * 1.0,
            rate=20000.0,
            electrode=elec,
            gain=1.0,
            sweep_number=np.uint64(sweep),
        )
        resp = CurrentClampSeries(
            name=f"current_clamp_{sweep}",
            data=rng.normal(-0.065, 0.002, n),
            starting_time=sweep * 1.0,
            rate=20000.0,
            electrode=elec,
            gain=1.0,
            sweep_number=np.uint64(sweep),
        )
        nwb.add_intracellular_recording(electrode=elec, stimulus=stim, response=resp)
    vc = VoltageClampSeries(
        name="voltage_clamp",
        data=rng.normal(0, 1e-11, n),
        rate=20000.0,
        electrode=elec,
        gain=1.0,
        sweep_number=np.uint64(3),
        starting_time=3.0,
    )
    nwb.add_acquisition(vc)
    return _write(nwb, Path(path))


def write_behavior(path: str | Path, *, scale: int = 1, seed: int = 0) -> Path:
    """Position tracking (SpatialSeries) and lick times (a TimeSeries with timestamps)."""
    import numpy as np
    from pynwb import TimeSeries
    from pynwb.behavior import Position, SpatialSeries

    rng = np.random.default_rng(seed)
    nwb = _base("behavior-synthetic", "linear track running", "behavior01")
    n = 5000 * scale
    pos = Position(name="Position")
    pos.add_spatial_series(
        SpatialSeries(
            name="position",
            data=np.cumsum(rng.normal(size=(n, 2)), axis=0),
            rate=50.0,
            reference_frame="track start",
            unit="meters",
            description="animal position",
        )
    )
    module = nwb.create_processing_module("behavior", "behavioral data")
    module.add(pos)
    _add_pose(nwb, module, n, rng)
    module.add(
        TimeSeries(
            name="licks",
            data=np.ones(50),
            timestamps=np.sort(rng.uniform(0, n / 50.0, 50)),
            unit="n.a.",
        )
    )
    return _write(nwb, Path(path))


def _add_pose(nwb: Any, module: Any, n: int, rng: Any) -> None:
    """An ndx-pose PoseEstimation: three keypoints of a mouse tracked on a 640x480 video."""
    import numpy as np
    from ndx_pose import PoseEstimation, PoseEstimationSeries, Skeleton, Skeletons

    nodes = ["nose", "ear_left", "ear_right", "tail_base"]
    skeleton = Skeleton(
        name="mouse_skeleton",
        nodes=nodes,
        edges=np.array([[0, 1], [0, 2], [1, 3], [2, 3]], dtype="uint8"),
    )
    module.add(Skeletons(skeletons=[skeleton]))
    centre = np.array([320.0, 240.0]) + np.cumsum(rng.normal(size=(n, 2)), axis=0)
    offsets = {"nose": (40, 0), "ear_left": (10, -15), "ear_right": (10, 15), "tail_base": (-40, 0)}
    series = [
        PoseEstimationSeries(
            name=name,
            description=f"{name} position",
            data=centre + np.array(offsets[name]),
            unit="pixels",
            reference_frame="(0,0) is the top left corner of the video",
            rate=30.0,
            confidence=rng.uniform(0.8, 1.0, n),
            confidence_definition="softmax output of the network",
        )
        for name in nodes
    ]
    camera = nwb.create_device(name="camera", description="top-down camera")
    module.add(
        PoseEstimation(
            name="PoseEstimation",
            pose_estimation_series=series,
            description="keypoints estimated with a synthetic network",
            device=camera,
            scorer="synthetic",
            source_software="DeepLabCut",
            skeleton=skeleton,
        )
    )


def write_pose_video(
    path: str | Path, video: str, *, frames: int, fps: float, size: tuple[int, int]
) -> Path:
    """A pose-estimation session whose camera video lives outside the file, as DANDI holds
    them: an ImageSeries with ``external_file`` = `video` (relative to the NWB file's
    folder) and an ndx-pose PoseEstimation tracking the bar `dandindex.testing.mediafiles`
    draws in that video (``source_video``, ``original_videos``): its keypoints sit on the
    bar in every frame."""
    import numpy as np
    from ndx_pose import PoseEstimation, PoseEstimationSeries
    from pynwb.image import ImageSeries

    nwb = _base("pose-video", "a bar tracked on an external video", "pose01")
    w, h = size
    movie = ImageSeries(
        name="BehaviorVideo",
        description="the camera's video, stored beside the NWB file",
        unit="n.a.",
        external_file=[video],
        starting_frame=[0],
        format="external",
        rate=float(fps),
        num_samples=frames,
    )
    nwb.add_acquisition(movie)
    i = np.arange(frames)
    x = (i * 3) % (w - 8) + 4.0  # the bar's centre in frame i (mediafiles.encode_video)
    top = np.stack([x, np.full(frames, h * 0.25)], axis=1)
    bottom = np.stack([x, np.full(frames, h * 0.75)], axis=1)
    camera = nwb.create_device(name="camera", description="a test camera")
    series = [
        PoseEstimationSeries(
            name=name,
            description=f"the bar's {name}",
            data=xy,
            unit="pixels",
            reference_frame="(0,0) is the top left corner",
            rate=float(fps),
            confidence=np.ones(frames),
        )  # fmt: skip
        for name, xy in (("bar_top", top), ("bar_bottom", bottom))
    ]
    module = nwb.create_processing_module("behavior", "pose")
    with warnings.catch_warnings():  # original_videos and dimensions: ndx-pose 0.1's fields,
        warnings.simplefilter("ignore", DeprecationWarning)  # as DANDI's older files hold them
        pose = PoseEstimation(
            name="PoseEstimation",
            pose_estimation_series=series,
            description="the bar",
            original_videos=[video],
            dimensions=np.array([[w, h]], dtype="uint16"),
            source_video=movie,
            device=camera,
            scorer="synthetic",
            source_software="DeepLabCut",
        )
    module.add(pose)
    return _write(nwb, Path(path))


def write_located(
    path: str | Path,
    locations: list[str],
    *,
    species: str = "Mus musculus",
    subject_id: str = "located01",
    imaging_location: str | None = None,
) -> Path:
    """A small file whose electrodes sit at `locations` (as written, one group per distinct
    string) and, with `imaging_location`, an imaging plane there: location strings as labs
    write them, for search tests."""
    nwb = _base(f"located-{subject_id}", "location strings as labs write them", subject_id, species)
    device = nwb.create_device(name="probe", description="probe")
    groups = {}
    for i, loc in enumerate(dict.fromkeys(locations)):
        groups[loc] = nwb.create_electrode_group(
            name=f"group{i}", description="a group", location=loc, device=device
        )
    for loc in locations:
        nwb.add_electrode(group=groups[loc], location=loc)
    if imaging_location is not None:
        from pynwb.ophys import OpticalChannel

        channel = OpticalChannel(name="green", description="green", emission_lambda=510.0)
        nwb.create_imaging_plane(
            name="ImagingPlane",
            optical_channel=channel,
            imaging_rate=30.0,
            description="a plane",
            device=device,
            excitation_lambda=920.0,
            indicator="GCaMP6f",
            location=imaging_location,
        )
    return _write(nwb, Path(path))


WRITERS = {
    "ecephys": write_ecephys,
    "ophys": write_ophys,
    "icephys": write_icephys,
    "behavior": write_behavior,
}


def write_all(folder: str | Path, *, scale: int = 1) -> dict[str, Path]:
    """One file per modality in `folder`; returns ``{modality: path}``."""
    folder = Path(folder)
    return {m: fn(folder / f"{m}.nwb", scale=scale) for m, fn in WRITERS.items()}
