"""The `bitopia` command: thin click commands over the library; SiteError -> message, exit 1."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bitopia_site import __version__
from bitopia_site.build import BuildOptions, BuildResult, build
from bitopia_site.errors import BuildFailed, SiteError


def fail(errors: list[SiteError], quiet: bool = False) -> None:
    """Print every error and exit 1."""
    for err in errors:
        click.echo(click.style("error: ", fg="red", bold=True) + err.format(), err=True)
    count = len(errors)
    click.echo(f"{count} error{'s' if count != 1 else ''}; nothing was written, the previous output is as it was.",
               err=True)
    sys.exit(1)


def show_warnings(warnings: list[SiteError]) -> None:
    for warning in warnings:
        click.echo(click.style("warning: ", fg="yellow", bold=True) + warning.format(), err=True)


def summary(result: BuildResult) -> str:
    stats = result.stats
    return (f"Built {result.pages} pages ({result.posts} posts, {result.terms} terms) and {result.static} "
            f"static files in {result.seconds:.2f} s: {stats.written} written, {stats.unchanged} unchanged, "
            f"{stats.removed} removed" + (f"; {len(result.warnings)} warnings" if result.warnings else ""))


site_option = click.option("-s", "--site", "site", type=click.Path(file_okay=False, path_type=Path),
                           default=Path("."), show_default=True, help="The site folder.")


@click.group()
@click.version_option(__version__, prog_name="bitopia")
def main() -> None:
    """bitopia: build, preview and publish a blog."""


@main.command("build")
@site_option
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Where to write the site (default: SITE/output).")
@click.option("--drafts", is_flag=True, help="Include drafts.")
@click.option("--future", is_flag=True, help="Include posts dated in the future.")
@click.option("--expired", is_flag=True, help="Include posts whose expiryDate has passed.")
@click.option("--base-url", default=None, help="Override base_url (e.g. for a preview host).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, help="Processes to use (0: all cores).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def build_command(site: Path, output: Path | None, drafts: bool, future: bool, expired: bool,
                  base_url: str | None, strict: bool, jobs: int, quiet: bool) -> None:
    """Build the site into its output folder."""
    options = BuildOptions(drafts=drafts, future=future, expired=expired, base_url=base_url, strict=strict,
                           jobs=jobs)
    try:
        result = build(site, output, options)
    except BuildFailed as failed:
        fail(failed.errors)
        return
    if not quiet:
        show_warnings(result.warnings)
        click.echo(summary(result))
