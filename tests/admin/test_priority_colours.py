"""A priority's badge shows the colour the administrator chose, with readable text, and the
admin warns about colours that are unreadable or look like another priority's."""

from __future__ import annotations

import itertools
import re

import pytest

from django.test import Client

from tessera.tickets.colours import (
    AA_NORMAL_TEXT,
    DISTINCT_DELTA_E,
    NEAR_BLACK,
    WHITE,
    best_contrast,
    contrast_ratio,
    delta_e,
    text_colour,
)
from tessera.tickets.defaults import PRIORITIES, replace_old_default_colours

pytestmark = pytest.mark.django_db


def _link(html: str) -> str:
    match = re.search(r'<link rel="stylesheet" href="(/staff/priorities\.css(?:\?v=[0-9a-f]+)?)">', html)
    assert match, "the workspace links the priority stylesheet"
    return match.group(1)


def _priority_form(priority, **changes) -> dict[str, str]:
    data = {"name": priority.name, "urgency": str(priority.urgency), "colour": priority.colour}
    if priority.is_default:
        data["is_default"] = "on"
    data.update(changes)
    return data


# ---------------------------------------------------------------------------- the arithmetic


def test_contrast_ratios_match_the_wcag_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss


def test_text_is_white_on_dark_badges_and_near_black_on_light_ones():
    assert text_colour("#1d4ed8") == WHITE
    assert text_colour("#fdb022") == NEAR_BLACK
    assert best_contrast("#808080") < AA_NORMAL_TEXT  # mid grey reads with neither


def test_default_priorities_are_readable_and_clearly_apart():
    for name, _urgency, colour, _default in PRIORITIES:
        assert best_contrast(colour) >= AA_NORMAL_TEXT, name
    for (a, _ua, ca, _da), (b, _ub, cb, _db) in itertools.combinations(PRIORITIES, 2):
        assert delta_e(ca, cb) >= DISTINCT_DELTA_E, (a, b)


def test_the_old_sev_a_and_sev_b_reds_count_as_alike():
    assert delta_e("#b42318", "#c4320a") < DISTINCT_DELTA_E


# ---------------------------------------------------------------------------- the data migration


def test_migration_recolours_only_priorities_still_on_the_old_default(desk):
    from tessera.tickets.models import Priority

    desk.sev_b.colour = "#C4320A"  # the old default, however it was typed
    desk.sev_b.save()
    Priority.objects.create(name="Custom", urgency=9, colour="#c4320a")  # not a default priority
    replace_old_default_colours(Priority)
    assert Priority.objects.get(pk=desk.sev_b.pk).colour == "#f79009"
    assert Priority.objects.get(name="Custom").colour == "#c4320a"

    desk.sev_b.colour = "#7a2e0e"  # an administrator's own choice
    desk.sev_b.save()
    replace_old_default_colours(Priority)
    assert Priority.objects.get(pk=desk.sev_b.pk).colour == "#7a2e0e"


# ---------------------------------------------------------------------------- the stylesheet


def test_badges_take_the_administrators_colour_with_readable_text(client, desk):
    desk.sev_a.colour = "#fdb022"
    desk.sev_a.save()
    client.force_login(desk.john.user)
    response = client.get(_link(client.get("/staff/").content.decode()))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    css = response.content.decode()
    assert ".badge-priority.priority-1 { --badge: #fdb022; color: #111827; }" in css
    assert ".badge-priority.priority-3 { --badge: #1d4ed8; color: #ffffff; }" in css


def test_stylesheet_is_fetched_once_and_its_link_changes_with_a_colour(client, desk):
    client.force_login(desk.john.user)
    unversioned = _link(client.get("/staff/").content.decode())
    assert unversioned == "/staff/priorities.css"  # nothing served yet: the browser revalidates
    assert client.get(unversioned)["Cache-Control"] == "public, no-cache"

    first = _link(client.get("/staff/").content.decode())
    assert first.startswith("/staff/priorities.css?v=")
    response = client.get(first)
    assert "immutable" in response["Cache-Control"] and "no-store" not in response["Cache-Control"]
    assert client.get(first, headers={"If-None-Match": response["ETag"]}).status_code == 304

    desk.sev_c.colour = "#0e7490"
    desk.sev_c.save()
    assert _link(client.get("/staff/").content.decode()) == unversioned  # never the old version
    assert "#0e7490" in client.get(unversioned).content.decode()
    second = _link(client.get("/staff/").content.decode())
    assert second != first
    # An old page's link still gets today's colours, but must not be kept as if current.
    stale = client.get(first)
    assert "#0e7490" in stale.content.decode() and "immutable" not in stale["Cache-Control"]


def test_linking_the_stylesheet_reads_nothing_from_the_database(client, desk, django_assert_num_queries):
    from tessera.staff.priority_css import sheet_url

    with django_assert_num_queries(0):
        assert sheet_url() == "/staff/priorities.css"
    client.get("/staff/priorities.css")
    with django_assert_num_queries(0):
        assert sheet_url().startswith("/staff/priorities.css?v=")


def test_a_malformed_colour_in_the_database_leaves_the_rest_of_the_sheet_intact(client, desk):
    from tessera.tickets.models import Priority

    Priority.objects.filter(pk=desk.sev_a.pk).update(colour="red;}")
    css = Client().get("/staff/priorities.css").content.decode()
    assert "red;}" not in css and "priority-1 " not in css
    assert ".badge-priority.priority-2 " in css


def test_stylesheet_answers_only_get_and_head(client, db):
    assert client.post("/staff/priorities.css").status_code == 405


# ---------------------------------------------------------------------------- the admin


def test_admin_warns_after_saving_a_colour_no_text_can_be_read_on(client, desk):
    client.force_login(desk.admin)
    url = f"/admin/tickets/priority/{desk.sev_d.pk}/change/"
    response = client.post(url, _priority_form(desk.sev_d, colour="#808080"), follow=True)
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert any("4.5:1" in w and "Sev-D" in w for w in warnings), warnings
    desk.sev_d.refresh_from_db()
    assert desk.sev_d.colour == "#808080"  # a warning, not a refusal


def test_admin_warns_when_a_colour_looks_like_another_priority(client, desk):
    client.force_login(desk.admin)
    url = f"/admin/tickets/priority/{desk.sev_b.pk}/change/"
    response = client.post(url, _priority_form(desk.sev_b, colour="#c4320a"), follow=True)
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert any("Sev-A (Emergency)" in w for w in warnings), warnings


def test_admin_says_nothing_about_a_good_colour(client, desk):
    client.force_login(desk.admin)
    url = f"/admin/tickets/priority/{desk.sev_b.pk}/change/"
    response = client.post(url, _priority_form(desk.sev_b, colour="#f79009"), follow=True)
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]


def test_admin_refuses_a_colour_that_is_not_hex_and_keeps_what_was_typed(client, desk):
    client.force_login(desk.admin)
    url = f"/admin/tickets/priority/{desk.sev_b.pk}/change/"
    response = client.post(url, _priority_form(desk.sev_b, name="Sev-B (Urgent)", colour="red"))
    assert response.status_code == 200
    assert "six hexadecimal digits" in response.content.decode()
    assert 'value="Sev-B (Urgent)"' in response.content.decode()
    desk.sev_b.refresh_from_db()
    assert desk.sev_b.name == "Sev-B (High)"
