"""`dandindex crawl`: pull Dandiset, version and asset metadata into the index."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from dandindex.cli.base import CONTEXT_SETTINGS, index_option
from dandindex.errors import UsageError

if TYPE_CHECKING:
    from dandindex.crawl import CrawlStats


@click.command("crawl", context_settings=CONTEXT_SETTINGS)
@click.option(
    "--api-url", default=None, help="Any DANDI-compatible API, e.g. http://127.0.0.1:8000/api."
)
@click.option(
    "--instance",
    default="dandi",
    show_default=True,
    help="A known DANDI instance (dandi, dandi-sandbox, ...); ignored with --api-url.",
)
@index_option
@click.option(
    "--dandiset",
    "dandisets",
    multiple=True,
    metavar="ID",
    help="Only these dandisets (repeatable).",
)
@click.option(
    "--versions",
    type=click.Choice(["draft", "latest", "all"]),
    default="latest",
    show_default=True,
    help="draft only; the most recent published version and the draft; or every version.",
)
@click.option(
    "--include-embargoed", is_flag=True, help="Also embargoed dandisets (needs DANDI_API_KEY)."
)
@click.option(
    "--workers",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Dandisets crawled in parallel.",
)
@click.option("--full", is_flag=True, help="Re-read every dandiset, ignoring what the index has.")
@click.option(
    "--timeout", default=60.0, show_default=True, type=float, help="Seconds per HTTP request."
)
@click.option(
    "--nwb",
    is_flag=True,
    help="Also read inside the files (streamed headers only): every NWB file's objects, and "
    "what OME-Zarr, TIFF, video and BIDS files hold.",
)
@click.option(
    "--nwb-workers",
    default=8,
    show_default=True,
    type=click.IntRange(1, 64),
    help="NWB files read in parallel.",
)
@click.option(
    "--nwb-dandiset",
    "nwb_dandisets",
    multiple=True,
    metavar="ID",
    help="With --nwb, read NWB files only of these dandisets (repeatable); the others are "
    "indexed from their metadata.",
)
@click.option(
    "--dask",
    "dask",
    default=None,
    metavar="ADDRESS",
    help="With --nwb, summarise NWB files as tasks on this Dask scheduler "
    "(tcp://HOST:8786); the metadata crawl stays here.",
)
@click.option(
    "--nwb-max-size",
    default=None,
    type=int,
    metavar="BYTES",
    help="Skip NWB files larger than this.",
)
@click.option(
    "--nwb-file-timeout",
    default=600.0,
    show_default=True,
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Give up on an NWB file after this long (it is tried again next crawl).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary line.")
@click.pass_context
def crawl(
    ctx: click.Context,
    api_url: str | None,
    instance: str,
    index_dir: str | None,
    dandisets: tuple[str, ...],
    versions: str,
    include_embargoed: bool,
    workers: int,
    full: bool,
    timeout: float,
    nwb: bool,
    nwb_workers: int,
    nwb_dandisets: tuple[str, ...],
    dask: str | None,
    nwb_max_size: int | None,
    nwb_file_timeout: float,
    quiet: bool,
) -> None:
    """Crawl a DANDI API into the local index (incremental and resumable).

    Only dandisets whose listing entry changed since the last crawl are read again; an
    interrupted crawl keeps the dandisets it finished. --nwb also streams the HDF5 metadata of
    every NWB asset not summarised before (keyed on its sha256) into nwb_* tables, and the
    headers of OME-Zarr, TIFF, video and BIDS files into file_summaries. DANDI_API_KEY authenticates (needed for
    --include-embargoed). Exits 1 if any dandiset failed (the others are kept).

    Example: dandindex crawl --api-url http://127.0.0.1:8000/api --index ./idx
    """
    import contextlib
    import faulthandler
    import logging
    import os
    import signal

    import dandi  # noqa: F401 - it sets up its logger on import; quieten it after that

    from dandindex.crawl import Crawler, CrawlOptions, resolve_api_url

    debug = bool((ctx.obj or {}).get("debug"))
    # dandi-cli's client logs every retry, with tracebacks: the crawl reports failures itself
    logging.getLogger("dandi").setLevel(logging.DEBUG if debug else logging.CRITICAL)
    # `kill -USR1 <pid>` prints where every thread of a crawl is (what it waits on)
    with contextlib.suppress(AttributeError, ValueError, OSError):  # no real stderr: skip
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    from dandindex.published import is_url
    from dandindex.store import resolve_index_dir

    if is_url(index_dir):
        raise UsageError(
            f"crawl writes an index folder on this machine, not {index_dir}: crawl into a "
            "folder, then `dandindex publish URL --index FOLDER`."
        )
    options = CrawlOptions(
        api_url=resolve_api_url(api_url, instance),
        index_dir=str(resolve_index_dir(index_dir)),
        dandisets=[d.zfill(6) if d.isdigit() else d for d in dandisets],
        versions=versions,
        include_embargoed=include_embargoed,
        workers=workers,
        full=full,
        timeout=timeout,
        api_key=os.environ.get("DANDI_API_KEY") or None,
        nwb=nwb,
        nwb_workers=nwb_workers,
        nwb_max_size=nwb_max_size,
        nwb_dandisets=[d.zfill(6) if d.isdigit() else d for d in nwb_dandisets],
        dask=dask,
        nwb_file_timeout=nwb_file_timeout,
    )
    bar = None
    if not quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=0, unit="dandiset", desc="crawl", file=sys.stderr, dynamic_ncols=True)

    def progress(stats: CrawlStats) -> None:
        if bar is None:
            return
        bar.total = stats.dandisets_total
        bar.n = stats.dandisets_done
        more = {}
        if stats.nwb_total:
            more["nwb"] = f"{stats.nwb_done}/{stats.nwb_total}"
        if stats.files_total:
            more["files"] = f"{stats.files_done}/{stats.files_total}"
        bar.set_postfix(
            assets=stats.assets, requests=stats.requests, errors=stats.errors, **more,
            refresh=False,
        )  # fmt: skip
        bar.refresh()

    try:
        stats = Crawler(options, progress=progress).run()
    finally:
        if bar is not None:
            bar.close()
    if not quiet:
        click.echo(
            f"Crawled {options.api_url} into {options.index_dir}: {stats.summary()}", err=True
        )
    if stats.dandisets_failed:
        for ident in sorted(stats.failed):
            click.echo(f"Failed: {ident}: {stats.reasons.get(ident, 'see crawl_errors')}", err=True)
        click.echo(
            "The index keeps what it had for these dandisets; the next crawl tries them again.",
            err=True,
        )
        ctx.exit(1)
