"""Video files described from their container's header with PyAV (FFmpeg) over a file
object, and one frame decoded from the key frame before a given time.

PyAV reads what FFmpeg's demuxer asks for: an MP4/MOV's ``moov`` atom wherever it is (at the
end of files written without ``faststart``), an AVI's header list and ``idx1`` index, a
Matroska file's segment info; then the first packet of the stream, which FFmpeg decodes to
learn the pixel format. Over a `RangeFile` that is a few range requests, a small fraction
of a large file. The frame count comes from the header (MP4 sample tables, AVI stream
header) or, where the container has none (Matroska), from duration × frame rate.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from dandindex.formats import FormatError, misnamed

#: FFmpeg demuxer options: decode as little as possible when probing
PROBE = {"probesize": "32", "analyzeduration": "0"}


def _open(fh: Any) -> Any:
    import av

    _quiet()

    try:
        return av.open(fh, mode="r", options=PROBE, buffer_size=16384)
    except av.error.FFmpegError as e:
        raise FormatError(f"not a readable video ({misnamed(fh, 'video') or _reason(e)})") from None


_QUIET: list[bool] = []


def _quiet() -> None:
    """FFmpeg's errors go into the exception's message (PyAV keeps the last one), not to
    stderr: the ``libav`` logger gets no handler of its own and does not propagate."""
    if _QUIET:
        return
    import logging

    import av.logging

    av.logging.set_level(av.logging.ERROR)
    log = logging.getLogger("libav")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    _QUIET.append(True)


def _reason(e: Exception) -> str:
    text = str(e)
    if "moov atom not found" in text.lower():
        return "the MP4 has no moov atom: the file was cut short or never finished"
    return text.split("; last error log:")[0]


def summarize_video(fh: Any) -> dict[str, Any]:
    """The ``file_summaries`` facts of a video file object."""
    container = _open(fh)
    with container:
        streams = list(container.streams.video)
        if not streams:
            raise FormatError(f"a {container.format.name} file without a video stream")
        s = streams[0]
        cc = s.codec_context
        rate = s.average_rate or s.guessed_rate or s.base_rate
        fps = float(rate) if rate else None
        duration = None
        if s.duration is not None and s.time_base is not None:
            duration = float(s.duration * s.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        frames = int(s.frames) if s.frames else None
        if frames is None and duration and fps:
            frames = round(duration * fps)
        if duration is None and frames and fps:
            duration = frames / fps
        details = {
            "streams": [
                {
                    "type": st.type,
                    "codec": st.codec_context.name if st.codec_context else None,
                    "time_base": str(st.time_base) if st.time_base else None,
                    "frames": int(st.frames or 0),
                }
                for st in container.streams
            ],
            "metadata": {str(k): str(v) for k, v in (container.metadata or {}).items()},
            "bit_rate": container.bit_rate,
        }
        return {
            "format": "video",
            "container": container.format.name,
            "codec": cc.name if cc else None,
            "width": int(cc.width) if cc and cc.width else None,
            "height": int(cc.height) if cc and cc.height else None,
            "fps": round(fps, 6) if fps else None,
            "n_frames": frames,
            "duration": round(duration, 6) if duration is not None else None,
            "pixel_format": cc.pix_fmt if cc else None,
            "shape": [frames or 0, int(cc.height or 0), int(cc.width or 0)] if cc else None,
            "axes": "tyx",
            "details": json.dumps(details, default=str, sort_keys=True),
        }


def frame_at(fh: Any, seconds: float = 0.0) -> tuple[Any, float]:
    """(the frame shown at `seconds` as an RGB array, its time): seek to the key frame at or
    before it, decode forward to it (a bounded read: one group of pictures)."""
    container = _open(fh)
    with container:
        if not container.streams.video:
            raise FormatError("no video stream")
        s = container.streams.video[0]
        s.thread_type = "AUTO"
        tb = s.time_base or Fraction(1, 1_000_000)
        start = float(s.start_time * tb) if s.start_time is not None else 0.0
        length = (float(s.duration * tb) if s.duration is not None
                  else container.duration / 1_000_000 if container.duration else None)  # fmt: skip
        if seconds < 0 or (length is not None and seconds >= length):
            from dandindex.errors import UsageError

            raise UsageError(f"--at {seconds:g} s is outside the video, which lasts "
                             + (f"{length:.2f} s." if length is not None else "less."))  # fmt: skip
        target = start + max(0.0, seconds)
        try:
            container.seek(int(target / tb), stream=s, backward=True, any_frame=False)
        except Exception:  # noqa: BLE001 - a file that cannot seek: decode from its start
            container.seek(0)
        last = None
        for frame in container.decode(s):
            t = float(frame.pts * tb) if frame.pts is not None else None
            last = frame
            if t is None or t + 0.5 * float(1 / (s.average_rate or 30)) >= target:
                break
        if last is None:
            raise FormatError("no frame could be decoded")
        t = float(last.pts * tb) - start if last.pts is not None else seconds
        return last.to_ndarray(format="rgb24"), t
