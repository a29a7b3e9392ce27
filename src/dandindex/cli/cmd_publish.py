"""`dandindex publish` and `dandindex pull`: an index made once, queried or mirrored anywhere."""

from __future__ import annotations

import click

from dandindex.cli.base import CONTEXT_SETTINGS, index_option

endpoint_option = click.option(
    "--endpoint-url",
    envvar="AWS_ENDPOINT_URL",
    show_envvar=True,
    default=None,
    metavar="URL",
    help="An S3-compatible endpoint (MinIO, Ceph, ...); credentials as the AWS tools find them.",
)


@click.command("publish", context_settings=CONTEXT_SETTINGS)
@click.argument("dest")
@endpoint_option
@index_option
def publish(dest: str, endpoint_url: str | None, index_dir: str | None) -> None:
    """Publish the index's current snapshot to DEST: s3://BUCKET/PREFIX or a folder a web
    server serves (file:// or a path). Files are stored under their sha256 and only those
    DEST lacks are uploaded; the manifest is switched last, so readers never see half a
    snapshot. Readers then use `--index DEST_URL` or `dandindex pull DEST_URL`.

    Example: dandindex publish s3://my-bucket/dandindex --index ./idx
    """
    from dandindex.published import is_url
    from dandindex.published import publish as run
    from dandindex.store import resolve_index_dir

    if is_url(index_dir) and not str(index_dir).startswith("file://"):
        from dandindex.errors import UsageError

        raise UsageError("publish reads an index folder on this machine (--index DIR).")
    folder = resolve_index_dir(index_dir)
    report = run(folder, dest, endpoint_url=endpoint_url, progress=lambda n: click.echo(
        f"uploaded {n}", err=True))  # fmt: skip
    click.echo(f"Published {folder} to {dest}: {report.summary()}.")


@click.command("pull", context_settings=CONTEXT_SETTINGS)
@click.argument("source")
@endpoint_option
@index_option
def pull(source: str, endpoint_url: str | None, index_dir: str | None) -> None:
    """Mirror the published index at SOURCE (s3://, https://, a folder) into the index
    folder: only files not already here are fetched, each checked against its sha256, and
    the local manifest is switched last. Nothing new published: one small request.

    Example: dandindex pull https://example.org/dandindex/ --index ./idx
    """
    from dandindex.published import is_url
    from dandindex.published import pull as run
    from dandindex.store import resolve_index_dir

    if is_url(index_dir):
        from dandindex.errors import UsageError

        raise UsageError("pull writes an index folder on this machine (--index DIR).")
    folder = resolve_index_dir(index_dir)
    report = run(source, folder, endpoint_url=endpoint_url, progress=lambda n: click.echo(
        f"fetched {n}", err=True))  # fmt: skip
    click.echo(f"Pulled {source} into {folder}: {report.summary()}.")
