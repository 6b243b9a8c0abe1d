"""Compact or comfortable queue rows: each agent's own choice, kept on their Agent, changed on
the profile page or with the queue page's quick switch, and drawn as a class on the page."""

from __future__ import annotations

import re

import pytest

from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from tessera.accounts import services as account_services
from tessera.accounts.models import Agent

QUEUE = "/staff/queues/open/"


def body_classes(html: str) -> list[str]:
    match = re.search(r'<body class="([^"]*)"', html)
    assert match, "no body class"
    return match.group(1).split()


def density_of(agent) -> str:
    return Agent.objects.get(pk=agent.pk).density


@pytest.fixture
def john(client, desk, ken_ticket):
    client.force_login(desk.john.user)
    return client


def test_agents_start_with_comfortable_rows_and_a_switch_to_compact(john, desk):
    html = john.get(QUEUE).content.decode()
    assert "density-compact" not in body_classes(html)
    assert 'name="density" value="compact"' in html and "Compact rows" in html


def test_the_queue_switch_keeps_compact_rows_for_this_agent_only(john, client, desk):
    response = john.post(reverse("staff:density"), {"density": "compact", "next": QUEUE + "?sort=-updated"})

    assert response.status_code == 302 and response["Location"] == QUEUE + "?sort=-updated"
    assert density_of(desk.john) == "compact"
    assert density_of(desk.jane) == "comfortable"  # another agent is unaffected
    html = john.get(QUEUE).content.decode()
    assert "density-compact" in body_classes(html)
    assert 'name="density" value="comfortable"' in html and "Comfortable rows" in html

    client.force_login(desk.jane.user)
    assert "density-compact" not in body_classes(client.get("/staff/queues/all/").content.decode())


def test_the_choice_follows_the_agent_to_a_new_browser(john, desk):
    john.post(reverse("staff:density"), {"density": "compact", "next": QUEUE})
    other_browser = Client()
    other_browser.force_login(desk.john.user)
    assert "density-compact" in body_classes(other_browser.get(QUEUE).content.decode())


@pytest.mark.parametrize("forged", ["tiny", "", "COMPACT", "compact<script>", "x" * 5000])
def test_a_forged_density_is_refused_with_a_clear_error_and_changes_nothing(john, desk, forged):
    response = john.post(reverse("staff:density"), {"density": forged, "next": QUEUE})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose comfortable or compact rows." in html
    assert f'href="{QUEUE}"' in html  # the way back to the queue
    assert "<script>" not in html.split("<main", 1)[1]
    assert density_of(desk.john) == "comfortable"


def test_the_switch_never_sends_the_agent_off_the_workspace(john):
    for elsewhere in ("https://evil.example/staff/", "//evil.example/staff/", "/admin/"):
        response = john.post(reverse("staff:density"), {"density": "compact", "next": elsewhere})
        assert response["Location"] == reverse("staff:dashboard")


def test_the_switch_answers_only_post(john, desk):
    assert john.get(reverse("staff:density") + "?density=compact").status_code == 405
    assert density_of(desk.john) == "comfortable"


def test_an_agent_cannot_change_another_agents_density(desk):
    with pytest.raises(PermissionDenied):
        account_services.set_density(desk.jane.user, desk.john, "compact")
    assert density_of(desk.john) == "comfortable"


def test_the_service_refuses_an_unknown_density(desk):
    with pytest.raises(ValidationError):
        account_services.set_density(desk.john.user, desk.john, "cramped")


def test_the_profile_page_saves_the_density(john, desk):
    page = john.get(reverse("staff:profile")).content.decode()
    assert "Queue rows" in page and 'value="compact"' in page

    response = john.post(
        reverse("staff:profile"), {"name": "John Doe", "time_zone": "", "signature": "", "density": "compact"}
    )

    assert response.status_code == 302
    assert density_of(desk.john) == "compact"
    assert density_of(desk.jane) == "comfortable"


def test_the_profile_form_without_a_density_keeps_the_current_one(john, desk):
    account_services.set_density(desk.john.user, desk.john, "compact")
    john.post(reverse("staff:profile"), {"name": "John Doe", "time_zone": "", "signature": ""})
    assert density_of(desk.john) == "compact"


def test_the_profile_refuses_a_forged_density_and_keeps_what_was_typed(john, desk):
    response = john.post(
        reverse("staff:profile"), {"name": "John Doe", "time_zone": "", "signature": "Typed", "density": "huge"}
    )
    assert response.status_code == 400
    assert "Typed" in response.content.decode()
    assert density_of(desk.john) == "comfortable"
