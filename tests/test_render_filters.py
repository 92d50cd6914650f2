"""The theme's filters and the helpers its templates call: the date filters remember their texts
for a build (each text must still be the one its own date gives, whatever dates came before it);
what moved from a template into Python writes what the template wrote."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import jinja2
from hypothesis import given
from hypothesis import strategies as st

from bitopia_site.json_ld import blog_posting
from bitopia_site.render import _DateTexts, _format_date, first_words
from bitopia_site.share_links import share_links

OFFSETS = st.sampled_from([timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30)),
                           timezone(timedelta(0), "GMT")])
DATES = st.builds(lambda moment, zone: moment.replace(tzinfo=timezone.utc).astimezone(zone),
                  st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1)), OFFSETS)
FORMATS = st.sampled_from(["%B %-d, %Y", "%Y-%m-%d", "%b %-d", "%-m/%-d %H:%M %Z"])


@given(st.lists(st.tuples(DATES, FORMATS), max_size=30))
def test_a_remembered_date_text_is_its_own_dates(calls: list[tuple[datetime, str]]) -> None:
    """Equal instants in other offsets (equal and of one hash as datetimes) keep their own texts."""
    dated, iso = _DateTexts(_format_date), _DateTexts(datetime.isoformat)
    for moment, fmt in calls + calls:
        assert dated(moment, fmt) == _format_date(moment, fmt)
        assert iso(moment) == moment.isoformat()


def test_the_same_instant_in_two_offsets_is_two_texts() -> None:
    utc = datetime(2024, 3, 1, 23, 30, tzinfo=timezone.utc)
    east = utc.astimezone(timezone(timedelta(hours=2)))
    assert utc == east
    dated = _DateTexts(_format_date)
    assert [dated(utc, "%Y-%m-%d"), dated(east, "%Y-%m-%d")] == ["2024-03-01", "2024-03-02"]


def test_what_is_not_a_datetime_prints_nothing() -> None:
    dated = _DateTexts(_format_date)
    assert dated(None) == dated("2024-01-01") == dated(date(2024, 1, 1)) == ""


def test_share_links_fill_each_known_networks_form_in_order() -> None:
    links = share_links(["Reddit", "myspace", "email"], "https://example.org/a b/", "Tea & “Cake”")
    assert links == [("Reddit", "https://www.reddit.com/submit?url=https%3A//example.org/a%20b/"
                                "&title=Tea%20%26%20%E2%80%9CCake%E2%80%9D"),
                     ("Email", "mailto:?subject=Tea%20%26%20%E2%80%9CCake%E2%80%9D&body=https%3A//example.org/a%20b/")]
    assert share_links([], "https://example.org/", "T") == [] == share_links(None, "https://example.org/", "T")


WORDS = st.text(alphabet=st.sampled_from(["a", "é", "<", "&", " ", "\n", "\xa0", "\u2003", "…"]), max_size=40)


@given(WORDS, st.one_of(st.none(), st.integers(min_value=0, max_value=12)))
def test_first_words_prints_what_the_cards_jinja_printed(text: str, count: int | None) -> None:
    """The card's summary as its template wrote it before (split, slice, join in Jinja), escaped alike."""
    before = jinja2.Environment(autoescape=True).from_string(
        "{% set words = text.split() %}{% if count and words|length > count %}{{ words[:count]|join(' ') }}…"
        "{% else %}{{ words|join(' ') }}{% endif %}")
    now = jinja2.Environment(autoescape=True).from_string("{{ first_words(text, count) }}")
    assert now.render(text=text, count=count, first_words=first_words) == before.render(text=text, count=count)


# The theme's JSON-LD as its template built it before json_ld.py made it.
JSON_LD_TEMPLATE = """{% set data = {
  '@context': 'https://schema.org', '@type': 'BlogPosting',
  'headline': page.title|string, 'url': page.url|absolute, 'mainEntityOfPage': page.url|absolute,
  'datePublished': page.date|iso, 'dateModified': (page.lastmod or page.date)|iso,
  'author': {'@type': 'Person', 'name': (page.author or site.author or site.title)|string},
  'publisher': {'@type': 'Organization', 'name': site.title|string},
  'wordCount': page.word_count,
} %}
{% if description %}{% set _ = data.update({'description': description|string}) %}{% endif %}
{% if image %}{% set _ = data.update({'image': image|absolute}) %}{% endif %}
{% if page.tags %}{% set _ = data.update({'keywords': page.tags|map(attribute='name')|join(', ')}) %}{% endif %}
{{ data|tojson }}"""
NAMES = st.text(alphabet=st.sampled_from(["a", "<", ">", "&", "'", '"', "é", " ", "\u2028"]), max_size=8)


@given(NAMES, NAMES, NAMES, st.lists(NAMES, max_size=3), st.one_of(st.none(), DATES),
       st.one_of(st.none(), DATES), st.sampled_from(["", "A summary <b> & 'it'"]),
       st.sampled_from(["", "/img/a b.jpg", "https://cdn.example/x.png"]))
def test_json_ld_is_what_the_template_wrote(title: str, author: str, site_title: str, tags: list[str],
                                            published: datetime | None, modified: datetime | None,
                                            description: str, image: str) -> None:
    site = {"title": site_title, "author": ""}
    page = {"title": title, "url": "/2024/05/a-post/", "date": published, "lastmod": modified, "author": author,
            "word_count": 321, "tags": [{"name": name, "url": f"/tags/{name}/"} for name in tags]}
    env = jinja2.Environment(autoescape=True)
    absolute = lambda path: "https://example.org" + str(path or "/")  # noqa: E731
    env.filters.update(absolute=absolute, iso=_DateTexts(datetime.isoformat))
    env.policies["json.dumps_kwargs"] = {"sort_keys": True}
    before = env.from_string(JSON_LD_TEMPLATE).render(page=page, site=site, description=description, image=image)
    assert str(blog_posting(page, description, image, site, absolute, str)) == before.strip()
