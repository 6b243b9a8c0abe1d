"""Every ticket action through its POST, its flash message, and what happens when it goes wrong."""

from __future__ import annotations

import re

import pytest

from django.urls import reverse

from tessera.accounts.models import User
from tessera.tickets import services
from tessera.tickets.models import Collaborator, EntryKind, Event, Referral, State, ThreadEntry, Ticket

from .conftest import field_error, flashes, page_version, textarea_value, ticket_url


@pytest.fixture
def panel(client):
    """POST the properties panel the way it goes without JavaScript (its Save button)."""

    def post(ticket, version=None, **fields):
        data = {f"props-{name}": value for name, value in fields.items()}
        data["props-version"] = reload(ticket).version if version is None else version
        return client.post(reverse("staff:ticket_properties", args=[ticket.number]), data)

    return post


def reload(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related("status", "priority", "assignee__user", "team", "department").get(pk=ticket.pk)


def assert_done(response, ticket, message: str) -> None:
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == ticket_url(ticket)
    assert message in flashes(response)


# ---------------------------------------------------------------------------- conversation


def test_reply_with_status_after_sending_resolves_the_ticket(as_agent, act, desk, ken_ticket):
    as_agent(desk.john)
    response = act(ken_ticket, "reply", message="Replaced the roller.", status=desk.resolved.pk)
    assert_done(response, ken_ticket, "Reply sent. The ticket is now Resolved.")
    ticket = reload(ken_ticket)
    assert ticket.state == State.RESOLVED
    entry = ThreadEntry.objects.filter(ticket=ticket).latest("id")
    assert (entry.kind, entry.body_text, entry.author) == (EntryKind.RESPONSE, "Replaced the roller.", desk.john.user)


def test_reply_keeps_the_current_status_by_default(as_agent, act, desk, ken_ticket):
    client = as_agent(desk.john)
    html = client.get(ticket_url(ken_ticket)).content.decode()
    assert '<option value="" selected>Keep current status (Open)</option>' in html
    response = act(ken_ticket, "reply", message="Looking into it.", status="")
    assert_done(response, ken_ticket, "Reply sent.")
    assert reload(ken_ticket).status == desk.open
    page = client.get(ticket_url(ken_ticket)).content.decode()
    assert "Reply sent." in page
    assert "Looking into it." in page


def test_internal_note_is_added_and_marked_internal(as_agent, act, desk, ken_ticket):
    client = as_agent(desk.john)
    response = act(ken_ticket, "note", note="Toner is fine.")
    assert_done(response, ken_ticket, "Internal note added.")
    note = ThreadEntry.objects.get(ticket=ken_ticket, kind=EntryKind.NOTE)
    assert note.body_text == "Toner is fine."
    html = client.get(ticket_url(ken_ticket)).content.decode()
    assert re.search(r'entry-note".*?Internal note</span>.*?Toner is fine\.', html, re.S)


def test_empty_reply_is_refused_with_a_message_next_to_the_field(as_agent, act, desk, ken_ticket):
    as_agent(desk.john)
    response = act(ken_ticket, "reply", message="   ")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please correct the following:" in html  # the summary at the top …
    assert '<a href="#id_reply-message">Reply</a>: Write a message first.' in html
    assert field_error(html, "id_reply-message") == "Write a message first."  # … and at the field
    assert ThreadEntry.objects.filter(ticket=ken_ticket).count() == 1


def test_refused_attachment_type_is_explained_at_the_attachment_field(as_agent, act, desk, ken_ticket):
    from django.core.files.uploadedfile import SimpleUploadedFile

    as_agent(desk.john)
    evil = SimpleUploadedFile("setup.exe", b"MZ", "application/octet-stream")
    response = act(ken_ticket, "reply", message="See attached.", attachments=[evil])
    assert response.status_code == 400
    html = response.content.decode()
    assert "files of type .exe are not accepted" in html
    assert "files of type .exe are not accepted" in field_error(html, "id_reply-attachments")
    assert "Attach your files again" in html
    assert textarea_value(html, "id_reply-message") == "See attached."


# ---------------------------------------------------------------------------- stale forms


def test_stale_reply_gets_409_keeps_the_text_and_carries_the_new_version(as_agent, act, client, desk, ken_ticket):
    as_agent(desk.john)
    loaded = page_version(client.get(ticket_url(ken_ticket)).content.decode())
    services.set_priority(desk.john.user, ken_ticket, priority=desk.sev_a)  # meanwhile, in another tab

    response = act(ken_ticket, "reply", version=loaded, message="A long, careful answer.")
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed while you were working on it" in html
    assert textarea_value(html, "id_reply-message") == "A long, careful answer."
    assert "John Doe changed priority from Sev-C (Normal) to Sev-A (Emergency)" in html  # the news
    fresh = page_version(html)
    assert fresh == reload(ken_ticket).version != loaded
    assert not ThreadEntry.objects.filter(kind=EntryKind.RESPONSE).exists()

    response = act(ken_ticket, "reply", version=fresh, message="A long, careful answer.")
    assert_done(response, ken_ticket, "Reply sent.")


def test_stale_claim_says_the_ticket_changed_rather_than_refusing(as_agent, act, desk, ken_ticket):
    as_agent(desk.john)
    loaded = reload(ken_ticket).version
    services.assign(desk.john.user, ken_ticket, agent=desk.jane)  # meanwhile
    response = act(ken_ticket, "claim", version=loaded)
    assert response.status_code == 409
    assert reload(ken_ticket).assignee == desk.jane


def test_stale_check_in_the_service_is_honoured_too(as_agent, panel, desk, ken_ticket, monkeypatch):
    """A change landing between the panel's check and the service's lock still comes back as 409."""
    real = services.set_priority

    def racing(actor, ticket, **kwargs):
        services.add_note(desk.olga.user, ticket, note="Racing note")
        return real(actor, ticket, **kwargs)

    monkeypatch.setattr(services, "set_priority", racing)
    as_agent(desk.john)
    response = panel(ken_ticket, priority=desk.sev_a.pk)
    assert response.status_code == 409
    assert "changed while you were working on it" in response.content.decode()
    # The panel's changes are all or nothing: nothing of this request stayed.
    assert reload(ken_ticket).priority == desk.sev_c


# ---------------------------------------------------------------------------- routing (the properties panel)


def test_assigning_to_an_agent_says_who_has_it_now(as_agent, panel, desk, ken_ticket):
    as_agent(desk.john)
    response = panel(ken_ticket, assignee=desk.jane.pk, note="Printer expert.")
    assert_done(response, ken_ticket, "Ticket assigned to Jane Doe.")
    assert reload(ken_ticket).assignee == desk.jane
    assert ThreadEntry.objects.filter(kind=EntryKind.NOTE, body_text="Printer expert.").exists()


def test_assigning_to_a_team(as_agent, panel, desk, ken_ticket):
    as_agent(desk.john)
    response = panel(ken_ticket, assignee="", team=desk.ops.pk)
    assert_done(response, ken_ticket, "Ticket assigned to team Infrastructure on-call.")
    assert reload(ken_ticket).team == desk.ops


def test_a_service_refusal_is_shown_at_the_assignee_select(as_agent, panel, desk, ken_ticket):
    desk.jane.is_available = False  # offered when the page was drawn, unavailable since
    desk.jane.save()
    services.assign(desk.john.user, ken_ticket, team=desk.ops)
    as_agent(desk.john)
    response = panel(ken_ticket, assignee=desk.john.pk)
    assert response.status_code == 302  # the team stays, John takes it: allowed
    desk.sysadmin.assign_members_only = True
    desk.sysadmin.save()
    response = panel(ken_ticket, department=desk.sysadmin.pk, assignee=desk.olga.pk)
    assert response.status_code == 400
    html = response.content.decode()
    assert field_error(html, "id_props-assignee").startswith("Olga Observer is not a member of System Administration")


def test_unavailable_agent_is_not_offered(as_agent, desk, ken_ticket):
    desk.jane.is_available = False
    desk.jane.save()
    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()
    assert not re.search(rf'<option value="{desk.jane.pk}">Jane Doe', html)


def test_forged_choice_outside_the_list_is_a_400_not_a_crash(as_agent, panel, desk, ken_ticket):
    as_agent(desk.john)
    for value in ("999999", "abc"):
        response = panel(ken_ticket, assignee=value)
        assert response.status_code == 400
        assert "Select a valid choice." in response.content.decode()


def test_claim_then_release(as_agent, act, desk, ken_ticket):
    client = as_agent(desk.john)
    assert_done(act(ken_ticket, "claim"), ken_ticket, "Ticket claimed: it is now assigned to you.")
    assert reload(ken_ticket).assignee == desk.john
    html = client.get(ticket_url(ken_ticket)).content.decode()
    assert ">Release ticket</button>" in html and ">Claim ticket</button>" not in html

    assert_done(act(ken_ticket, "release"), ken_ticket, "Ticket released: nobody is assigned to it now.")
    assert reload(ken_ticket).assignee is None


def test_transfer_with_an_agent_and_john_keeps_following_it(as_agent, panel, client, desk, ken_ticket):
    as_agent(desk.john)
    response = panel(ken_ticket, department=desk.sysadmin.pk, assignee=desk.jane.pk, note="Server side.")
    assert_done(response, ken_ticket, "Ticket transferred to System Administration and assigned to Jane Doe.")
    ticket = reload(ken_ticket)
    assert (ticket.department, ticket.assignee) == (desk.sysadmin, desk.jane)
    assert Referral.objects.filter(ticket=ticket, agent=desk.john).exists()
    page = client.get(ticket_url(ken_ticket))
    assert page.status_code == 200
    html = page.content.decode()
    assert "John Doe transferred the ticket from Support to System Administration" in html
    assert 'id="id_props-department"' not in html  # following a referral does not include moving it again


def test_transfer_out_of_johns_departments_is_still_viewable_as_a_referral(as_agent, panel, client, desk, ken_ticket):
    as_agent(desk.john)
    response = panel(ken_ticket, department=desk.billing.pk)
    assert_done(response, ken_ticket, "Ticket transferred to Billing.")
    assert client.get(ticket_url(ken_ticket)).status_code == 200
    assert "Printer jams" not in client.get("/staff/queues/open/").content.decode()
    assert as_agent(desk.bill).get(ticket_url(ken_ticket)).status_code == 200


def test_transfer_needs_a_department(as_agent, panel, desk, ken_ticket):
    as_agent(desk.john)
    response = panel(ken_ticket, department="")
    assert response.status_code == 400
    assert field_error(response.content.decode(), "id_props-department") == "Choose a department."


def test_losing_sight_of_the_ticket_after_an_action_lands_on_the_dashboard(as_agent, act, desk, ken_ticket):
    services.assign(desk.john.user, ken_ticket, agent=desk.jane)  # Jane reaches it only as its assignee
    as_agent(desk.jane)
    response = act(ken_ticket, "release")
    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    messages = flashes(response)
    assert "Ticket released: nobody is assigned to it now." in messages
    assert f"Ticket #{ken_ticket.number} is no longer in your departments or queues." in messages


def test_losing_sight_of_the_ticket_after_a_panel_change_lands_on_the_dashboard(as_agent, panel, desk, ken_ticket):
    services.assign(desk.john.user, ken_ticket, agent=desk.jane)
    as_agent(desk.jane)
    response = panel(ken_ticket, assignee="")
    assert response["Location"] == "/staff/"
    assert f"Ticket #{ken_ticket.number} is no longer in your departments or queues." in flashes(response)


# ---------------------------------------------------------------------------- priority and status


def test_priority_change_is_recorded_and_announced(as_agent, panel, client, desk, ken_ticket):
    as_agent(desk.john)
    response = panel(ken_ticket, priority=desk.sev_a.pk)
    assert_done(response, ken_ticket, "Priority changed to Sev-A (Emergency).")
    assert reload(ken_ticket).priority == desk.sev_a
    html = client.get(ticket_url(ken_ticket)).content.decode()
    assert "John Doe changed priority from Sev-C (Normal) to Sev-A (Emergency)" in html
    assert f'<option value="{desk.sev_a.pk}" selected>Sev-A (Emergency)</option>' in html


def test_choosing_the_current_priority_explains_nothing_changed(as_agent, client, desk, ken_ticket):
    as_agent(desk.john)
    url = reverse("staff:ticket_property", args=[ken_ticket.number, "priority"])
    response = client.post(url, {"props-priority": desk.sev_c.pk, "props-version": ken_ticket.version})
    assert response.status_code == 400
    assert "That is already the ticket&#x27;s Priority." in response.content.decode()


def test_resolve_close_and_reopen(as_agent, panel, desk, ken_ticket):
    as_agent(desk.john)
    assert_done(panel(ken_ticket, status=desk.resolved.pk), ken_ticket, "Status changed to Resolved.")
    assert reload(ken_ticket).state == State.RESOLVED
    assert_done(
        panel(ken_ticket, status=desk.closed.pk, note="Confirmed by phone."),
        ken_ticket,
        "Status changed to Closed.",
    )
    assert reload(ken_ticket).state == State.CLOSED
    assert ThreadEntry.objects.filter(kind=EntryKind.NOTE, body_text="Confirmed by phone.").exists()
    assert_done(panel(ken_ticket, status=desk.open.pk), ken_ticket, "Status changed to Open.")
    assert reload(ken_ticket).state == State.OPEN
    assert Event.objects.filter(ticket=ken_ticket, kind="reopened").exists()


# ---------------------------------------------------------------------------- collaborators


def test_add_and_remove_a_collaborator(as_agent, act, client, desk, ken_ticket):
    as_agent(desk.john)
    response = act(ken_ticket, **{"action": "add-collaborator"}, email="Kim@Example.com")
    assert_done(response, ken_ticket, "kim@example.com is now copied on this ticket.")
    kim = User.objects.get(email="kim@example.com")
    assert Collaborator.objects.filter(ticket=ken_ticket, user=kim).exists()
    html = client.get(ticket_url(ken_ticket)).content.decode()
    assert '>Remove<span class="visually-hidden"> kim@example.com</span></button>' in html

    response = act(ken_ticket, "remove-collaborator", user=kim.pk)
    assert_done(response, ken_ticket, "kim@example.com is no longer copied on this ticket.")
    assert not Collaborator.objects.filter(ticket=ken_ticket).exists()


def test_copying_the_requester_is_explained_at_the_email_field(as_agent, act, desk, ken_ticket):
    as_agent(desk.john)
    response = act(ken_ticket, "add-collaborator", email="ken@example.com")
    assert response.status_code == 400
    assert field_error(response.content.decode(), "id_add-collaborator-email") == "Ken Adams opened this ticket."


def test_removing_someone_not_copied_is_a_400(as_agent, act, desk, ken_ticket):
    as_agent(desk.john)
    response = act(ken_ticket, "remove-collaborator", user=desk.bill.user.pk)
    assert response.status_code == 400
    assert "That person is no longer copied on this ticket." in response.content.decode()


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("reply", {"message": "Forged."}),
        ("reply", {}),  # even an invalid form is refused first
        ("properties", {"assignee": "JANE"}),
        ("claim", {}),
        ("properties", {"department": "SYSADMIN"}),
        ("properties", {"priority": "SEV_A"}),
        ("properties", {"status": "CLOSED"}),
        ("properties", {"topic": "OUTAGE"}),
        ("add-collaborator", {"email": "eve@example.com"}),
    ],
)
def test_observer_forged_post_gets_a_403_page_and_nothing_changes(
    as_agent, act, panel, desk, ken_ticket, action, fields
):
    ids = {
        "JANE": desk.jane.pk,
        "SYSADMIN": desk.sysadmin.pk,
        "SEV_A": desk.sev_a.pk,
        "CLOSED": desk.closed.pk,
        "OUTAGE": desk.outage.pk,
    }
    fields = {k: ids.get(v, v) for k, v in fields.items()}
    before = reload(ken_ticket)
    counts = (ThreadEntry.objects.count(), Event.objects.count(), User.objects.count(), Collaborator.objects.count())

    as_agent(desk.olga)
    response = panel(ken_ticket, **fields) if action == "properties" else act(ken_ticket, action, **fields)

    assert response.status_code == 403
    html = response.content.decode()
    assert "Not done: you are not allowed to do this." in html
    assert "Nothing was changed." in html
    assert re.search(r"You cannot [a-z ']+ this ticket", html)
    after = reload(ken_ticket)
    assert after.version == before.version
    assert counts == (
        ThreadEntry.objects.count(),
        Event.objects.count(),
        User.objects.count(),
        Collaborator.objects.count(),
    )


def test_observer_can_still_add_a_note(as_agent, act, desk, ken_ticket):
    as_agent(desk.olga)
    assert_done(act(ken_ticket, "note", note="Seen it."), ken_ticket, "Internal note added.")


def test_bill_posting_to_a_ticket_he_cannot_see_gets_the_404_page(as_agent, act, desk, ken_ticket):
    as_agent(desk.bill)
    response = act(ken_ticket, "reply", message="Hi")
    assert response.status_code == 404
    assert "does not exist or is not in your departments" in response.content.decode()
    assert ThreadEntry.objects.count() == 1


def test_follower_is_not_offered_closed_before_the_ticket_is_resolved(as_agent, act, desk, ken_ticket):
    """John follows the ticket after transferring it; he may close it only once it is resolved."""
    services.transfer(desk.john.user, ken_ticket, department=desk.billing)
    as_agent(desk.john)
    response = act(ken_ticket, "reply", message="Closing this.", status=desk.closed.pk)
    assert response.status_code == 400  # Closed is not among the statuses he may choose
    assert "Select a valid choice." in response.content.decode()


def test_anonymous_post_goes_to_sign_in_and_nothing_changes(client, desk, ken_ticket):
    response = client.post(f"/staff/tickets/{ken_ticket.number}/reply/", {"reply-message": "x", "reply-version": 1})
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")
    assert ThreadEntry.objects.count() == 1


def test_action_urls_answer_get_with_the_ticket_page(as_agent, desk, ken_ticket):
    response = as_agent(desk.john).get(f"/staff/tickets/{ken_ticket.number}/reply/")
    assert response.status_code == 302
    assert response["Location"] == ticket_url(ken_ticket)


def test_unknown_action_is_a_404(as_agent, desk, ken_ticket):
    response = as_agent(desk.john).post(f"/staff/tickets/{ken_ticket.number}/delete-everything/")
    assert response.status_code == 404


def test_missing_version_is_a_400_asking_to_reload(as_agent, client, desk, ken_ticket):
    as_agent(desk.john)
    response = client.post(f"/staff/tickets/{ken_ticket.number}/reply/", {"reply-message": "Hello"})
    assert response.status_code == 400
    assert "The form was incomplete. Reload the ticket and try again." in response.content.decode()


def test_forms_carry_a_csrf_token_that_the_action_accepts(desk, ken_ticket):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(desk.john.user)
    html = client.get(ticket_url(ken_ticket)).content.decode()
    form = re.search(r'action="/staff/tickets/\d+/note/".*?</form>', html, re.S).group(0)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    url = f"/staff/tickets/{ken_ticket.number}/note/"
    data = {"note-note": "With a token.", "note-version": page_version(html, "note")}
    assert client.post(url, data).status_code == 403  # no token: Django's CSRF refusal
    assert client.post(url, {**data, "csrfmiddlewaretoken": token}).status_code == 302
