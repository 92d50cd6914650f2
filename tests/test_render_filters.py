"""The theme's date filters remember their texts for a build: each text must still be the one
its own date gives, whatever dates came before it."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from bitopia_site.render import _DateTexts, _format_date
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
