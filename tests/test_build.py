"""The build from the user's side: golden output, determinism, errors, the real Hugo blog."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bitopia_site.build import BuildOptions, build
from bitopia_site.cache import Cache, DocumentCache
from bitopia_site.config import load_config
from bitopia_site.cli import main
from bitopia_site.errors import BuildFailed, Report
from bitopia_site.stages import content_settings
from conftest import FIXED_NOW, REPO, SITES, copy_site
from regen_golden import VERSIONS_FILE, golden_options, output_versions

INVALID = Path(__file__).resolve().parent / "invalid"


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` with its bytes (the writer's marker left out)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".bitopia-output"}


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path, data in tree(folder).items():
        h.update(path.encode() + b"\0" + data)
    return h.hexdigest()


def test_sample_site_matches_golden_tree(tmp_path: Path) -> None:
    made_with = (SITES / "sample" / VERSIONS_FILE).read_text()
    if output_versions() != made_with:  # constraints.txt installs it; another version highlights otherwise
        pytest.skip(f"the golden tree holds the output of {made_with.strip()}, not {output_versions().strip()}: "
                    "install from constraints.txt, or run `python tests/regen_golden.py` and review the diff")
    out = tmp_path / "out"
    build(SITES / "sample", out, golden_options())
    expected = tree(SITES / "sample" / "expected")
    actual = tree(out)
    assert sorted(actual) == sorted(expected), "run `python tests/regen_golden.py` and review the diff"
    for path in expected:
        assert actual[path] == expected[path], f"{path} differs; run `python tests/regen_golden.py` and review"


def test_build_is_deterministic_across_runs_and_job_counts(tmp_path: Path) -> None:
    build(SITES / "sample", tmp_path / "a", BuildOptions(now=FIXED_NOW, jobs=1))
    build(SITES / "sample", tmp_path / "b", BuildOptions(now=FIXED_NOW, jobs=2))
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_parallel_build_of_a_larger_site_equals_a_serial_one(tmp_path: Path) -> None:
    """Enough posts and list pages for the work to be split across processes (parse, fingerprints,
    the cards shared by list pages, render) with the bundled theme: the same bytes as one process."""
    site = copy_site(SITES / "sample", tmp_path / "site")
    (site / "site.yaml").write_text("title: Many\nbase_url: https://example.org/\npaginate: 3\n")
    for n in range(240):
        tags = "\n".join(f"  - topic {n % 97} {k}" for k in range(3))
        (site / "content" / "posts" / f"p{n:03d}.md").write_text(
            f"---\ntitle: Post {n} & <more>\ndate: 2021-{n % 12 + 1:02d}-{n % 28 + 1:02d}\n"
            f"categories: [c{n % 5}]\ntags:\n{tags}\n---\nParagraph *{n}* with `code`.\n\n## Part\n\nMore text.\n")
    serial, split = tmp_path / "serial", tmp_path / "split"
    build(site, serial, BuildOptions(now=FIXED_NOW, jobs=1, cache=False))
    result = build(site, split, BuildOptions(now=FIXED_NOW, jobs=2, cache=False))
    assert result.rendered > 600
    serial_tree = tree(serial)
    assert sum(1 for path in serial_tree if path.startswith("tags/")) > 400
    assert serial_tree == tree(split)
    (site / "content" / "posts" / "p007.md").write_bytes(b"---\ntitle: Latin-1\n---\ncaf\xe9\n")
    with pytest.raises(BuildFailed) as failed:  # read by a parsing process: reported all the same
        build(site, tmp_path / "again", BuildOptions(now=FIXED_NOW, jobs=2, cache=False))
    assert [err.format() for err in failed.value.errors] == [
        "content/posts/p007.md:4: is not UTF-8 text (byte 0xe9) — save the file as UTF-8"]
    assert not (tmp_path / "again").exists()


def test_drafts_future_and_expired_stay_out_unless_asked(tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(SITES / "sample", out, BuildOptions(now=FIXED_NOW))
    everything = b"".join(tree(out).values())
    for secret in (b"DRAFT-SECRET", b"FUTURE-SECRET", b"EXPIRED-SECRET", b"A Draft", b"secret-draft-tag",
                   b"future-tag", b"From the Future"):
        assert secret not in everything
    build(SITES / "sample", out, BuildOptions(now=FIXED_NOW, drafts=True, future=True, expired=True))
    everything = b"".join(tree(out).values())
    for secret in (b"DRAFT-SECRET", b"FUTURE-SECRET", b"EXPIRED-SECRET", b"secret-draft-tag"):
        assert secret in everything


def test_rebuild_writes_only_what_changed(tmp_path: Path) -> None:
    site = copy_site(SITES / "sample", tmp_path / "site")
    shutil.rmtree(site / "expected")
    out = tmp_path / "out"
    first = build(site, out, BuildOptions(now=FIXED_NOW))
    assert first.stats.written > 0 and first.stats.unchanged == 0
    inode = (out / "about/index.html").stat().st_ino
    again = build(site, out, BuildOptions(now=FIXED_NOW))
    assert again.stats.written == 0 and again.stats.removed == 0
    assert (out / "about/index.html").stat().st_ino == inode
    (site / "content/pages/about.md").write_text("---\ntitle: About us\ntype: page\nurl: /about/\n---\nNew.\n")
    (site / "content/posts/third.md").unlink()
    changed = build(site, out, BuildOptions(now=FIXED_NOW))
    assert changed.stats.removed >= 1
    assert not (out / "2021/03/01/third").exists()
    assert "About us" in (out / "about/index.html").read_text()


@pytest.mark.parametrize("case", sorted(p.name for p in INVALID.iterdir() if p.is_dir()))
def test_broken_site_reports_exact_errors_and_keeps_previous_output(case: str, tmp_path: Path) -> None:
    out = tmp_path / "output"
    build(SITES / "sample", out, BuildOptions(now=FIXED_NOW))
    before = digest(out)
    result = CliRunner().invoke(main, ["build", "-s", str(INVALID / case), "-o", str(out)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = [line.removeprefix("error: ") for line in result.output.splitlines() if line.startswith("error: ")]
    assert errors == (INVALID / case / "expected.txt").read_text().splitlines()
    assert digest(out) == before


def test_missing_featured_image_warns_and_strict_fails(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "content/posts").mkdir(parents=True)
    (site / "site.yaml").write_text("title: T\nbase_url: https://example.org/\n")
    (site / "content/posts/p.md").write_text(
        "---\ntitle: P\ndate: 2014-08-06 17:37:19+00:00\nfeatured: gone.jpg\nfeaturedpath: date\n---\nx\n")
    result = build(site, tmp_path / "out", BuildOptions(now=FIXED_NOW))
    assert [w.format() for w in result.warnings] == [
        "content/posts/p.md: featured image not found: looked for content/img/2014/08/gone.jpg and "
        "static/img/2014/08/gone.jpg — add the image there, or fix `featured:` / `featuredpath:`"]
    with pytest.raises(BuildFailed):
        build(site, tmp_path / "out", BuildOptions(now=FIXED_NOW, strict=True))


def test_output_folder_of_someone_elses_files_is_refused(tmp_path: Path) -> None:
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    result = CliRunner().invoke(main, ["build", "-s", str(SITES / "sample"), "-o", str(precious)])
    assert result.exit_code == 1
    assert "was not made by bitopia" in result.output
    assert (precious / "thesis.txt").read_text() == "years of work"


def test_cli_usage_error_exits_2_and_module_entry_point_builds(tmp_path: Path) -> None:
    assert CliRunner().invoke(main, ["build", "--no-such-flag"]).exit_code == 2
    site = copy_site(SITES / "sample", tmp_path / "site")
    done = subprocess.run([sys.executable, "-m", "bitopia_site", "build", "-s", str(site), "-q"],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert (site / "output/index.html").is_file()


def test_module_entry_point_says_everything_before_its_quick_exit(tmp_path: Path) -> None:
    """After a build, the program ends without freeing the site object by object (cli.run): what it
    printed still reaches a pipe, the output and the cache record are whole, and a failure is as before."""
    site = copy_site(SITES / "sample", tmp_path / "site")
    command = [sys.executable, "-m", "bitopia_site", "build", "-s", str(site)]
    first = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Built ") and first.stdout.endswith(" removed\n"), first.stdout
    build(SITES / "sample", tmp_path / "in-process", BuildOptions())
    assert tree(site / "output").keys() == tree(tmp_path / "in-process").keys()
    again = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert again.returncode == 0 and "; 0 rendered)" in again.stdout, again.stdout  # the record was saved
    bad = copy_site(INVALID / "bad-yaml", tmp_path / "bad")
    failed = subprocess.run([*command[:-1], str(bad)], capture_output=True, text=True, cwd=REPO)
    assert failed.returncode == 1 and "error: " in failed.stderr and failed.stdout == ""


def test_bundled_site_builds_with_seed_post_and_featured_image(bundled_site: Path) -> None:
    result = CliRunner().invoke(main, ["build", "-s", str(bundled_site)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Built ")
    out = bundled_site / "output"
    post = (out / "2014/08/06/the-live-deployment-stories-from-bitopia/index.html").read_text()
    assert "It was a dark rainy night." in post
    assert "/img/2014/08/live_deployment_bitopia.jpg" in post
    jpeg = (out / "img/2014/08/live_deployment_bitopia.jpg").read_bytes()
    assert jpeg[:2] == b"\xff\xd8" and len(jpeg) > 1000
    assert (out / "about/index.html").is_file()


def live_path(out: Path, url: str) -> Path:
    return out / (url.lstrip("/") + ("index.html" if url.endswith("/") else ""))


def test_real_hugo_blog_keeps_every_live_url(real_blog: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    result = CliRunner().invoke(main, ["build", "-s", str(real_blog), "-o", str(out)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert "Hugo theme" in warnings[0]
    # The blog's own broken links (`www.intel.com/` written without a scheme, say), each at its line:
    assert len(warnings) == 6 and all(re.match(r"warning: content/blog/[^:]+\.markdown:\d+: links to ", w)
                                      for w in warnings[1:]), warnings
    urls = [u.strip() for u in (real_blog / "live-urls.txt").read_text().splitlines() if u.strip()]
    missing = [u for u in urls if not live_path(out, u).is_file()]
    assert len(urls) == 661 and missing == []
    for path, data in tree(out).items():
        assert b"pick-my-brain" not in data and b"Pick my brain" not in data, f"draft leaked into {path}"
    assert not (out / "pick-my-brain").exists()
    images = [line.strip().removeprefix("static/") for line in (real_blog / "referenced-images.txt").read_text().splitlines()]
    assert images and all((out / image).is_file() for image in images)
    live = out / "2014/08/06/the-live-deployment-stories-from-bitopia/index.html"
    assert "/img/2014/08/live_deployment_bitopia.jpg" in live.read_text()


def test_a_failed_build_keeps_the_posts_it_parsed_in_the_cache(tmp_path: Path) -> None:
    """The cache of parsed posts is saved late in a build (while the pages render); a build that
    fails before then still saves it, so fixing one post does not mean parsing every post again."""
    site = tmp_path / "site"
    (site / "content/posts").mkdir(parents=True)
    (site / "site.yaml").write_text("title: T\nbase_url: https://example.org/\n")
    for n in range(3):
        (site / f"content/posts/good{n}.md").write_text(f"---\ntitle: Good {n}\ndate: 2020-01-0{n + 1}\n---\nBody.\n")
    (site / "content/posts/bad.md").write_text("---\ndate: 2020-01-05\n---\nNo title.\n")
    with pytest.raises(BuildFailed):
        build(site, tmp_path / "out", BuildOptions(now=FIXED_NOW))
    settings = content_settings(load_config(site, Report()))
    cached = DocumentCache(Cache(site, Report()), settings.key()).signatures()
    assert sorted(cached) == ["content/posts/bad.md"] + [f"content/posts/good{n}.md" for n in range(3)]


def test_clean_removes_output_and_cache_and_no_cache_renders_everything(tmp_path: Path) -> None:
    site = copy_site(SITES / "sample", tmp_path / "site")
    runner = CliRunner()
    assert runner.invoke(main, ["build", "-s", str(site), "-q"]).exit_code == 0
    assert (site / ".bitopia-cache").is_dir() and (site / "output/index.html").is_file()
    again = runner.invoke(main, ["build", "-s", str(site)])
    assert "; 0 rendered)" in again.output and "0 written" in again.output
    forced = runner.invoke(main, ["build", "-s", str(site), "--no-cache"])
    assert "; 0 rendered)" not in forced.output and "0 written" in forced.output
    cleaned = runner.invoke(main, ["clean", "-s", str(site)])
    assert cleaned.exit_code == 0 and "removed" in cleaned.output
    assert not (site / "output").exists() and not (site / ".bitopia-cache").exists()
    assert (site / "content").is_dir()
