"""How far an edit reaches (scope.reach): one table of cases, the rule both `build` and `serve` ask."""

from __future__ import annotations

import pytest

from bitopia_site.scope import Edit, Reach, reach

POST_A, POST_B, RECENT = "content/posts/a.md", "content/posts/b.md", "content/posts/recent.md"
SHOWN_ON = {
    POST_A: ["a/index.html", "index.html", "tags/x/index.html"],
    POST_B: ["b/index.html", "index.html"],
    RECENT: ["recent/index.html"],
}
ON_EVERY_PAGE = {RECENT}  # shown in the sidebar of every page
STATIC = {"static/site.css", "content/img/a.jpg"}

CASES = [
    ("a body edit: the pages showing the post", [Edit(POST_A, "p1", "p1")],
     Reach(pages=frozenset(SHOWN_ON[POST_A]))),
    ("two body edits: the pages showing either", [Edit(POST_A, "p1", "p1"), Edit(POST_B, "p2", "p2")],
     Reach(pages=frozenset(SHOWN_ON[POST_A] + SHOWN_ON[POST_B]))),
    ("a stylesheet changed in place: copied, no page", [Edit("static/site.css")],
     Reach(copies=frozenset({"static/site.css"}))),
    ("a body edit and an image: both", [Edit(POST_B, "p2", "p2"), Edit("content/img/a.jpg")],
     Reach(pages=frozenset(SHOWN_ON[POST_B]), copies=frozenset({"content/img/a.jpg"}))),
    ("a new post: moved", [Edit("content/posts/new.md", None, "p9")],
     Reach(moved=frozenset({"content/posts/new.md"}))),
    ("a deleted post: moved", [Edit(POST_A, "p1", None, gone=True)], Reach(moved=frozenset({POST_A}))),
    ("a broken post", [Edit(POST_A, "p1", None)], "cannot be read"),
    ("a retitled, redated or retagged post: moved", [Edit(POST_A, "p1", "p1'")], Reach(moved=frozenset({POST_A}))),
    ("a post every page shows, moved", [Edit(RECENT, "p3", "p4")], Reach(moved=frozenset({RECENT}))),
    ("a post every page shows", [Edit(RECENT, "p3", "p3")], "on every page"),
    ("a template", [Edit("themes/bitopia/templates/post.html")], "not a post, page or static file"),
    ("the config", [Edit("site.yaml")], "not a post, page or static file"),
    ("a body edit beside a move: both", [Edit(POST_B, "p2", "p2"), Edit(POST_A, "p1", "p0")],
     Reach(pages=frozenset(SHOWN_ON[POST_B]), moved=frozenset({POST_A}))),
    ("a move beside a template: the whole site", [Edit(POST_A, "p1", "p0"), Edit("templates/post.html")],
     "not a post, page or static file"),
    ("no edit at all", [], "nothing is known to have changed"),
]


@pytest.mark.parametrize(("edits", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_how_far_an_edit_reaches(edits: list[Edit], expected: Reach[str] | str) -> None:
    found = reach(edits, SHOWN_ON, ON_EVERY_PAGE, STATIC)
    if isinstance(expected, str):
        assert expected in found.whole and not found.pages and not found.copies
        assert edits == [] or any(edit.path in found.whole for edit in edits), "the reason names the file"
    else:
        assert found == expected


def test_pages_are_whatever_the_caller_counts_them_by() -> None:
    """The server keeps pages by their number in its plan, a build by their path: both work."""
    by_number = {POST_A: [0, 3], POST_B: [3, 4]}
    assert reach([Edit(POST_A, "p", "p"), Edit(POST_B, "q", "q")], by_number, (), ()).pages == {0, 3, 4}
