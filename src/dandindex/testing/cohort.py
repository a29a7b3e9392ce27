"""Allen-like NWB sessions for the cohort question of the DANDI tour, written with pynwb.

How do visual areas coordinate during natural-scene viewing, and how does running change
that? A cohort needs mouse sessions with activity data (units or ΔF/F) in several visual
areas *at once*, a natural-scenes presentation table (``intervals/natural_scenes_presentations``)
and a running-speed series (``processing/running/running_speed``). These writers make such
sessions (Neuropixels-like: units on probes in several areas; two-photon-like: ΔF/F of ROIs
in one plane) and sessions that lack one of the parts, so a cohort query has something to
leave out. `SESSIONS` says what each holds; tests compute their expectations from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dandindex.testing.nwbfiles import _base, _write


@dataclass(frozen=True)
class Session:
    """One file to write: its electrodes (units) per area, or its imaging plane's area and
    ROIs; whether it has the stimulus table, the running series and a trials table; how
    long it runs (seconds)."""

    name: str
    kind: str  # "ecephys" or "ophys"
    units: dict[str, int] = field(default_factory=dict)  # area -> units (ecephys)
    plane: str | None = None  # the imaging plane's location (ophys)
    rois: int = 0
    natural_scenes: bool = True
    running: bool = True
    trials: bool = False
    seconds: float = 600.0


SESSIONS: tuple[Session, ...] = (
    Session("npx-visp-visl", "ecephys", units={"VISp": 5, "VISl": 3, "CA1": 2}, seconds=900.0),
    Session("npx-visal-only", "ecephys", units={"VISal": 4}, running=False, seconds=300.0),
    Session("npx-vispm-visp", "ecephys", units={"VISpm": 2, "VISp": 2}, natural_scenes=False),
    Session("ophys-visl", "ophys", plane="VISl", rois=8, trials=True, seconds=1200.0),
)


def _stimulus_and_running(nwb: Any, s: Session, rng: Any) -> None:
    import numpy as np
    from pynwb import TimeSeries

    if s.natural_scenes:
        nwb.add_time_intervals(_presentations(rng, s.seconds))
    if s.running:
        stamps = np.arange(0.0, s.seconds, 0.1)  # 10 Hz, within the walk's value budget
        module = nwb.create_processing_module("running", "running wheel")
        module.add(
            TimeSeries(
                name="running_speed",
                data=_running(rng, stamps),
                timestamps=stamps,
                unit="cm/s",
                description="running speed from the wheel encoder",
            )
        )


def _running(rng: Any, stamps: Any) -> Any:
    """Bouts of running (about 20 cm/s) between rests, smoothed like a wheel's speed."""
    import numpy as np

    bouts = (np.sin(stamps / 17.0 + rng.uniform(0, 6)) > 0.2) * rng.uniform(15, 25)
    noisy = bouts + rng.normal(0, 2, len(stamps))
    kernel = np.ones(15) / 15
    return np.clip(np.convolve(noisy, kernel, mode="same"), 0, None).astype(np.float32)


def _presentations(rng: Any, seconds: float) -> Any:
    from pynwb.epoch import TimeIntervals

    table = TimeIntervals(name="natural_scenes_presentations", description="natural scenes")
    table.add_column("frame", "image index")
    table.add_column("stimulus_name", "stimulus")
    t = 10.0
    while t + 0.25 < min(seconds, 60.0):
        table.add_row(start_time=t, stop_time=t + 0.25, frame=int(rng.integers(0, 118)),
                      stimulus_name="natural_scenes")  # fmt: skip
        t += 0.25
    return table


def write_session(path: str | Path, s: Session, *, seed: int = 0) -> Path:
    """The file of session `s` at `path`."""
    import numpy as np

    rng = np.random.default_rng(seed)
    nwb = _base(f"cohort-{s.name}", f"visual coding session {s.name}", f"mouse-{s.name}")
    if s.kind == "ecephys":
        _units(nwb, s, rng)
    else:
        _ophys(nwb, s, rng)
    _stimulus_and_running(nwb, s, rng)
    if s.trials:
        nwb.add_trial_column("reward", "reward volume (uL)")
        nwb.add_trial_column("correct", "whether the response was correct")
        for i in range(10):
            nwb.add_trial(start_time=10.0 * i, stop_time=10.0 * i + 5, reward=2.0 * (i % 2),
                          correct=bool(i % 2))  # fmt: skip
    return _write(nwb, Path(path))


def _units(nwb: Any, s: Session, rng: Any) -> None:
    import numpy as np

    device = nwb.create_device(name="neuropixels", description="Neuropixels 1.0")
    row = 0
    nwb.add_unit_column("quality", "sorting quality")
    for i, (area, n) in enumerate(s.units.items()):
        group = nwb.create_electrode_group(
            name=f"probe{chr(65 + i)}", description=f"probe in {area}", location=area,
            device=device,
        )  # fmt: skip
        first = row
        for _ in range(n):  # an electrode per unit: its peak channel
            nwb.add_electrode(group=group, location=area, x=0.0, y=float(row), z=0.0)
            row += 1
        for e in range(first, row):
            spikes = np.sort(rng.uniform(0, s.seconds, 50))
            nwb.add_unit(spike_times=spikes, electrodes=[e], quality="good")


def _ophys(nwb: Any, s: Session, rng: Any) -> None:
    import numpy as np
    from hdmf.backends.hdf5.h5_utils import H5DataIO
    from pynwb.ophys import DfOverF, ImageSegmentation, OpticalChannel

    device = nwb.create_device(name="Microscope", description="2p microscope")
    channel = OpticalChannel(name="OpticalChannel", description="green", emission_lambda=510.0)
    plane = nwb.create_imaging_plane(
        name="ImagingPlane", optical_channel=channel, imaging_rate=30.0, description="L2/3",
        device=device, excitation_lambda=920.0, indicator="GCaMP6f", location=str(s.plane),
    )  # fmt: skip
    module = nwb.create_processing_module("ophys", "optical physiology processed data")
    seg = ImageSegmentation()
    module.add(seg)
    ps = seg.create_plane_segmentation(name="PlaneSegmentation", description="ROIs",
                                       imaging_plane=plane)  # fmt: skip
    for r in range(s.rois):
        mask = np.zeros((16, 16), dtype=np.float32)
        mask[r % 4 * 4 : r % 4 * 4 + 3, r // 4 * 4 : r // 4 * 4 + 3] = 1.0
        ps.add_roi(image_mask=mask)
    frames = int(s.seconds * 30)
    trace = np.sin(np.arange(frames, dtype=np.float32) / 30.0)[:, None] * np.ones(s.rois)
    dff = DfOverF(name="DfOverF")
    module.add(dff)
    rois = ps.create_roi_table_region(region=list(range(s.rois)), description="all ROIs")
    dff.create_roi_response_series(
        name="DfOverF", data=H5DataIO(trace.astype(np.float32), compression="gzip"), rois=rois,
        rate=30.0, unit="n.a.",
    )  # fmt: skip


def write_sessions(folder: str | Path) -> dict[str, Path]:
    """Every session of `SESSIONS` in `folder`: ``{name: path}``."""
    folder = Path(folder)
    return {s.name: write_session(folder / f"{s.name}.nwb", s, seed=i)
            for i, s in enumerate(SESSIONS)}  # fmt: skip


def attachments(files: dict[str, Path]) -> list[Any]:
    """`NWBAttachment`s of the written sessions (a mouse each)."""
    from dandindex.testing.generate import NWBAttachment

    kinds = {s.name: s.kind for s in SESSIONS}
    return [NWBAttachment(path=p, modality=kinds[n], subject_id=f"vis{i}", session_id=n)
            for i, (n, p) in enumerate(files.items())]  # fmt: skip
