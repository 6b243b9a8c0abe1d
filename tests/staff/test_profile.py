"""Agents set their own name, time zone, signature and availability, and see the effect."""

import pytest

from tessera.tickets.models import EntryKind


@pytest.fixture
def john_client(client, desk):
    client.force_login(desk.john.user)
    return client


def test_agent_saves_time_zone_signature_and_availability(john_client, desk):
    response = john_client.post(
        "/staff/profile/",
        {"name": "John Doe", "time_zone": "Europe/Berlin", "signature": "John — Support, tier 1"},
    )
    assert response.status_code == 302
    desk.john.refresh_from_db()
    desk.john.user.refresh_from_db()
    assert desk.john.user.time_zone == "Europe/Berlin"
    assert desk.john.signature == "John — Support, tier 1"
    assert desk.john.is_available is False  # unticked box
    assert "Your profile is saved." in john_client.get("/staff/profile/").content.decode()


def test_an_unknown_time_zone_is_refused_and_the_typed_signature_kept(john_client, desk):
    response = john_client.post(
        "/staff/profile/", {"name": "John Doe", "time_zone": "Mars/Olympus", "signature": "Typed with care"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Select a valid choice" in page
    assert "Typed with care" in page


def test_workspace_times_follow_the_agents_time_zone(john_client, desk, ken_ticket):
    desk.john.user.time_zone = "Asia/Tokyo"
    desk.john.user.save()
    page = john_client.get(f"/staff/tickets/{ken_ticket.number}/").content.decode()
    local = ken_ticket.created_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    assert local.strftime("%H:%M") in page  # the workspace's clock is 24-hour


def test_reply_signed_with_the_agents_signature_when_chosen(john_client, desk, ken_ticket):
    desk.john.signature = "John Doe\nSupport, tier 1"
    desk.john.save()
    page = john_client.get(f"/staff/tickets/{ken_ticket.number}/").content.decode()
    assert 'name="reply-signature" value="agent"' in page
    john_client.post(
        f"/staff/tickets/{ken_ticket.number}/reply/",
        {
            "reply-message": "Try turning it off and on.",
            "reply-version": ken_ticket.version,
            "reply-signature": "agent",
        },
    )
    entry = ken_ticket.entries.get(kind=EntryKind.RESPONSE)
    assert entry.body_text.endswith("Support, tier 1")


def test_reply_without_signature_when_none_is_sent(john_client, desk, ken_ticket):
    desk.john.signature = "John Doe"
    desk.john.save()
    john_client.post(
        f"/staff/tickets/{ken_ticket.number}/reply/",
        {"reply-message": "Try turning it off and on.", "reply-version": ken_ticket.version},
    )
    assert ken_ticket.entries.get(kind=EntryKind.RESPONSE).body_text == "Try turning it off and on."


def test_an_agent_cannot_change_someone_elses_profile(desk):
    from django.core.exceptions import PermissionDenied

    from tessera.accounts.services import update_agent_profile

    with pytest.raises(PermissionDenied):
        update_agent_profile(desk.jane.user, desk.john, name="Evil", time_zone="", signature="", is_available=False)
