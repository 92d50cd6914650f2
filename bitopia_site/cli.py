"""The `bitopia` command: thin click commands over the library; SiteError -> message, exit 1."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from bitopia_site import __version__, site_folder
from bitopia_site.build import BuildOptions, BuildSummary, run_build
from bitopia_site.errors import BuildFailed, SiteError
from bitopia_site.wording import plural


def fail(errors: list[SiteError]) -> None:
    """Print every error and exit 1."""
    for err in errors:
        click.echo(click.style("error: ", fg="red", bold=True) + err.format(), err=True)
    click.echo(f"{plural(len(errors), 'error')}; nothing was written, the previous output is as it was.", err=True)
    sys.exit(1)


def show_warnings(warnings: list[SiteError]) -> None:
    """Each warning on a line of its own, written at once: a site may have thousands."""
    if warnings:
        label = click.style("warning: ", fg="yellow", bold=True)
        click.echo("\n".join(label + warning.format() for warning in warnings), err=True)


def summary(result: BuildSummary) -> str:
    stats = result.stats
    warned = f"; {plural(len(result.warnings), 'warning')}" if result.warnings else ""
    return (f"Built {plural(result.pages, 'page')} ({plural(result.posts, 'post')}, {plural(result.terms, 'term')}; "
            f"{result.rendered} rendered) and {plural(result.static, 'static file')} in {result.seconds:.2f} s: "
            f"{stats.written} written, {stats.unchanged} unchanged, {stats.removed} removed{warned}")


_FINISHED: list[object] = []  # the last finished build's site in memory, left for the end of the process to drop


def run() -> None:
    """The `bitopia` program: `main`; after a build, an exit that does not free the site in memory
    object by object (at 100k posts that takes 1.7 s, while the system frees a process at once)."""
    try:
        main()
    except SystemExit as stop:
        if not _FINISHED or not (stop.code is None or isinstance(stop.code, int)):
            raise
        code = stop.code or 0
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # a closed pipe: the normal exit would fail the same way
            code = code or 1
        os._exit(code)


site_option = click.option("-s", "--site", "site", type=click.Path(file_okay=False, path_type=Path),
                           default=Path("."), show_default=True, help="The site folder.")


def need_site(site: Path) -> None:
    """Exit 1 with what a site needs unless `site` holds one: a command never builds a guess."""
    try:
        site_folder.require_site(site)
    except SiteError as err:
        _fail_one(err)


class Commands(click.Group):
    """A group whose list of commands shows each one's first paragraph in full, not cut at 45 characters,
    and whose callback runs when it is given no command (see `help_when_bare`)."""

    group_class = type  # its subgroups (`new`) work the same way

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invoke_without_command", True)
        super().__init__(*args, **kwargs)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not cmd.short_help and cmd.help:
            cmd.short_help = " ".join(cmd.help.split("\n\n")[0].split())
        super().add_command(cmd, name)


def help_when_bare(ctx: click.Context) -> None:
    """A group's callback given no command: print the group's help (the exit is 0: nothing failed)."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@click.group(cls=Commands)
@click.version_option(__version__, prog_name="bitopia")
@click.pass_context
def main(ctx: click.Context) -> None:
    """bitopia: build, preview and publish a blog."""
    help_when_bare(ctx)


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
@click.option("--no-cache", is_flag=True, help="Ignore .bitopia-cache/ and render every page.")
@click.option("--no-images", is_flag=True, help="Leave images as written: no sizes, no smaller copies.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def build_command(site: Path, output: Path | None, drafts: bool, future: bool, expired: bool,
                  base_url: str | None, strict: bool, jobs: int, no_cache: bool, no_images: bool, quiet: bool) -> None:
    """Build the site into its output folder."""
    need_site(site)
    progress = Progress() if not quiet and sys.stderr.isatty() else None
    options = BuildOptions(drafts=drafts, future=future, expired=expired, base_url=base_url, strict=strict,
                           jobs=jobs, cache=not no_cache, progress=progress, images=not no_images)
    try:
        built = run_build(site, output, options)
    except BuildFailed as failed:
        if progress:
            progress.clear()
        fail(failed.errors)
        return
    _FINISHED[:] = [built]  # one at most: main() may run many builds in one process (a test's CliRunner)
    result = built.summary
    if progress:
        progress.clear()
    if not quiet:
        show_warnings(result.warnings)
        click.echo(summary(result))


class Progress:
    """One line on a terminal that shows what a long build is doing; silent for short ones."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total < 500:
            return
        self.shown = True
        click.echo(f"\r\033[K{stage} {done}/{total}", err=True, nl=False)

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\033[K", err=True, nl=False)


@main.command("clean")
@site_option
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="The output folder to delete (default: SITE/output).")
def clean_command(site: Path, output: Path | None) -> None:
    """Delete the output folder and the cache (.bitopia-cache/)."""
    from bitopia_site.output_folder import remove_output

    try:
        removed = remove_output(site, output if output is not None else site / "output")
    except SiteError as err:
        fail([err])
        return
    for path in removed:
        click.echo(f"removed {path}")
    if not removed:
        click.echo("nothing to remove")


def _fail_one(err: SiteError) -> None:
    """Print one error that is not a failed build, and exit 1."""
    click.echo(click.style("error: ", fg="red", bold=True) + err.format(), err=True)
    sys.exit(1)


@main.command("serve")
@site_option
@click.option("-p", "--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; one beyond loopback (0.0.0.0, a LAN address) shows the preview, "
                   "drafts included, to your network.")
@click.option("--no-drafts", is_flag=True, help="Leave drafts out (they are shown by default).")
@click.option("--no-future", is_flag=True, help="Leave posts dated in the future out (shown by default).")
@click.option("--expired", is_flag=True, help="Include posts whose expiryDate has passed.")
@click.option("--open", "open_browser", is_flag=True, help="Open the site in a web browser.")
@click.option("--poll", is_flag=True, help="Poll for changes (network drives, some containers) instead of inotify.")
@click.option("--navigate", is_flag=True, help="After a post is saved, send open browsers to it.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, help="Processes to use (0: all cores).")
def serve_command(site: Path, port: int, host: str, no_drafts: bool, no_future: bool, expired: bool,
                  open_browser: bool, poll: bool, navigate: bool, jobs: int) -> None:
    """Preview the site: build, serve, rebuild on every save and reload the browser."""
    import signal
    import time
    import webbrowser

    from bitopia_site.incremental import live_builder
    from bitopia_site.serve import DevServer

    need_site(site)

    def log(text: str, error: bool) -> None:
        for label, color in (("error: ", "red"), ("warning: ", "yellow")):
            if text.startswith(label):
                text = click.style(label, fg=color, bold=True) + text[len(label):]
        click.echo(text, err=error)

    options = BuildOptions(drafts=not no_drafts, future=not no_future, expired=expired, jobs=jobs)
    try:
        server = DevServer(site, live_builder(site, options), host=host, port=port, poll=poll, navigate=navigate,
                           log=log)
    except OSError as exc:
        _fail_one(SiteError(f"{host}:{port}", f"cannot listen there: {exc.strerror or exc}",
                            "pass another port with -p (or -p 0 for any free one)"))
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.start()
        shown = "drafts and future posts shown" if not (no_drafts or no_future) else "as published" \
            if (no_drafts and no_future) else ("future posts shown" if no_drafts else "drafts shown")
        watching = "polling for changes" if server.watcher.polling else "watching for changes"
        if server.exposed:
            hidden = "" if no_drafts and no_future else f" ({shown})"
            log(f"warning: listening on {host}, beyond this machine: anyone who can reach it reads the preview"
                f"{hidden}; use --host 127.0.0.1 to keep it to this machine", True)
        click.echo(f"Serving {site} at {' and '.join(server.urls)} ({shown}; {watching}). Press Ctrl+C to stop.")
        if open_browser:
            webbrowser.open(server.url)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.close()


@main.group("new")
@click.pass_context
def new_group(ctx: click.Context) -> None:
    """Start a new site, or a new post or page (a draft, dated now)."""
    help_when_bare(ctx)


@new_group.command("site")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def new_site_command(folder: Path) -> None:
    """Make a site in FOLDER (made if missing): a site.yaml and an empty content/posts/."""
    from bitopia_site.scaffold import new_site

    try:
        config = new_site(folder)
    except SiteError as err:
        _fail_one(err)
        return
    click.echo(f"{config}\nA new site: set its title and base_url there, then write a post with "
               f"`bitopia new post \"A title\" -s {folder}` and preview it with `bitopia serve -s {folder}`.")


def _new(site: Path, kind: str, title: str, series: str | None) -> None:
    """Write a new draft and print its file, where `serve` shows it, and that it is a draft."""
    from bitopia_site.scaffold import new_content

    need_site(site)
    try:
        made = new_content(site, kind, title, series)
    except SiteError as err:
        _fail_one(err)
        return
    click.echo(f"{made.path}\nA draft: `bitopia serve` shows it at http://127.0.0.1:8000{made.url}; "
               "`bitopia build` leaves it out until you set `draft: false`.")


@new_group.command("post")
@site_option
@click.argument("title")
@click.option("--series", default=None, help="Add the post to a series (e.g. \"Stories from Bitopia\").")
def new_post_command(site: Path, title: str, series: str | None) -> None:
    """Write a draft post for TITLE, named as the site's posts are (content/posts/<slug>.md, with their date
    prefix if they have one); its URL follows its date; never overwrites a file."""
    _new(site, "post", title, series)


@new_group.command("page")
@site_option
@click.argument("title")
def new_page_command(site: Path, title: str) -> None:
    """Write content/pages/<slug>.md for TITLE, served at /<slug>/."""
    _new(site, "page", title, None)


# -- check and publish ------------------------------------------------------------------------

def _problems(errors: list[SiteError], what: str, counted: bool = True) -> None:
    """Print every problem, say what was (not) done, and exit 1."""
    for err in errors:
        click.echo(click.style("error: ", fg="red", bold=True) + err.format(), err=True)
    click.echo(f"{plural(len(errors), 'problem')}; {what}" if counted else what, err=True)
    sys.exit(1)


@main.command("check")
@site_option
@click.option("--strict", is_flag=True, help="Treat build warnings as problems.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, help="Processes to use (0: all cores).")
def check_command(site: Path, strict: bool, jobs: int) -> None:
    """Build for production in memory and check links, images and drafts; exit 1 on problems."""
    from bitopia_site.check import check_site

    need_site(site)
    try:
        built, result = check_site(site, jobs=jobs, strict=strict)
    except BuildFailed as failed:
        _problems(failed.errors, "the site does not build.")
        return
    found = {problem.format() for problem in result.problems}
    show_warnings([w for w in built.report.warnings if w.format() not in found])  # a broken link once, as a problem
    if result.problems:
        _problems(result.problems, result.summary() + ".", counted=False)
    click.echo(f"{result.summary()}.")


@main.command("publish")
@site_option
@click.argument("target", required=False)
@click.option("--dry-run", is_flag=True, help="List what would be added, changed and removed; change nothing.")
@click.option("--rollback", is_flag=True, help="Make the release before the live one live again.")
@click.option("--convert", is_flag=True,
              help="Let TARGET, an old output folder of `bitopia build`, become a symlink to releases "
                   "(the folder is kept as a release).")
@click.option("--remote", default=None, help="For git:BRANCH, push the branch to this remote.")
@click.option("--keep", type=click.IntRange(min=1), default=5, show_default=True, help="Releases to keep.")
@click.option("--strict", is_flag=True, help="Treat build warnings as problems.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, help="Processes to use (0: all cores).")
def publish_command(site: Path, target: str | None, dry_run: bool, rollback: bool, convert: bool,
                    remote: str | None, keep: int, strict: bool, jobs: int) -> None:
    """Build, check, and swap the whole site into TARGET (a folder, or git:BRANCH) at once.

    TARGET defaults to `publish:` in site.yaml.
    """
    from bitopia_site import publish as publishing

    need_site(site)
    log = click.echo
    try:
        target = target or publishing.default_target(site)
        if rollback:
            publishing.rollback(site, target, log)
        else:
            publishing.publish(site, target, log, dry_run=dry_run, convert=convert, remote=remote, keep=keep,
                               jobs=jobs, strict=strict)
    except (BuildFailed, SiteError) as failed:
        errors = failed.errors if isinstance(failed, BuildFailed) else [failed]
        if not target:
            _problems(errors, "nothing was published.")
        live = publishing.live_line(site, target)
        _problems(errors, f"nothing was published; {target} is as it was." + (f"\n{live}" if live else ""))
