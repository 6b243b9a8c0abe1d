"""Times and numbers read the way the reader's language writes them, in the reader's zone: the
one time format of tests/test_one_date_format.py exists once per language (its patterns are
translatable, `pgettext("day in another year", "j M Y")`...), and Django names the months and
days."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone, translation

from tessera.fast_html import time_element
from tessera.staff.templatetags.staff_tags import queue_count

MARCH = datetime(2024, 3, 15, 7, 5, tzinfo=UTC)


def test_a_time_in_german_names_the_month_and_day_in_german_in_the_viewers_zone():
    with translation.override("de"), timezone.override(ZoneInfo("Europe/Berlin")):
        html = str(time_element(MARCH))
    assert 'datetime="2024-03-15T08:05:00+01:00"' in html
    assert "März" in html and "Freitag" in html and "08:05" in html


def test_the_same_time_in_french_and_english():
    with translation.override("fr"), timezone.override(UTC):
        french = str(time_element(MARCH))
    with translation.override("en"), timezone.override(UTC):
        english = str(time_element(MARCH))
    assert "mars" in french and "vendredi" in french
    assert "March" in english and "Friday" in english


def test_queue_counts_are_grouped_the_way_the_language_writes_thousands():
    with translation.override("de"):
        assert queue_count(2345) == "2.345"
    with translation.override("en"):
        assert queue_count(2345) == "2,345"


def test_a_limit_in_an_error_message_is_written_in_the_readers_numbers(db, desk):
    import pytest

    from django.core.exceptions import ValidationError

    from tessera.accounts import directory_services

    with translation.override("de"), pytest.raises(ValidationError) as refused:
        directory_services.add_note(desk.john.user, body="x" * (directory_services.NOTE_MAX_LENGTH + 1), user=desk.ken)
    assert "4.000" in str(refused.value)
