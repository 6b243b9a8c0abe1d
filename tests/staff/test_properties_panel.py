"""The ticket page's properties panel: each select saves where it stands (htmx, or the whole panel
with its Save button), through the services, with the version the agent saw; a change can be
undone for a few seconds by the agent who made it; refusals say why and change nothing."""

from __future__ import annotations

import re
import time

import pytest

from django.core import signing
from django.urls import reverse

from tessera.accounts.models import Agent, Membership, Role, User
from tessera.staff import properties_views
from tessera.tickets import services
from tessera.tickets.models import EntryKind, Event, EventKind, Referral, ThreadEntry, Ticket
from tests.tickets.helpers import unchanged

from .conftest import flashes, ticket_url

HTMX = {"HX-Request": "true"}


def prop_url(ticket, name: str) -> str:
    return reverse("staff:ticket_property", args=[ticket.number, name])


def reload(ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def change(client):
    """POST one property the way the panel's select does (htmx unless told otherwise)."""

    def post(ticket, name: str, value, *, version=None, reason: str = "", htmx: bool = True, url=None):
        data = {f"props-{name}": value, "props-version": reload(ticket).version if version is None else version}
        if reason:
            data["props-note"] = reason
        return client.post(url or prop_url(ticket, name), data, headers=HTMX if htmx else {})

    return post


@pytest.fixture
def sam(desk):
    """A second Support agent."""
    user = User.objects.create_user("sam@example.com", desk.password, name="Sam Lee")
    agent = Agent.objects.create(user=user)
    Membership.objects.create(
        agent=agent, department=desk.support, role=Role.objects.get(name="Agent"), is_primary=True
    )
    return agent


@pytest.fixture
def superagent(desk):
    """The superuser with an agent profile: keeps every right on a ticket wherever it goes."""
    Agent.objects.create(user=desk.admin)
    return desk.admin


def undo_token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "no Undo offered"
    return match.group(1)


def panel_version(html: str) -> int:
    return int(re.search(r'name="props-version" value="(\d+)"', html).group(1))


def said(html: str) -> str:
    match = re.search(
        r'<div id="properties-status" hx-swap-oob="innerHTML">(.*?)</div>\s*<p class="ticket-badges"', html, re.S
    )
    assert match, "no confirmation region in the answer"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


# ---------------------------------------------------------------------------- each property saves


CASES = {
    "status": ("resolved", "status", "Status changed to Resolved.", EventKind.STATUS, "Open", "Resolved"),
    "priority": ("sev_a", "priority", "Priority changed to Sev-A (Emergency).", EventKind.PRIORITY,
                 "Sev-C (Normal)", "Sev-A (Emergency)"),
    "assignee": ("john", "assignee", "Ticket assigned to John Doe.", EventKind.ASSIGNED, "", "John Doe"),
    "team": ("ops", "team", "Ticket assigned to team Infrastructure on-call.", EventKind.ASSIGNED, "",
             "Infrastructure on-call"),
    "department": ("sysadmin", "department", "Ticket transferred to System Administration.", EventKind.TRANSFERRED,
                   "Support", "System Administration"),
    "topic": ("outage", "topic", "Help topic changed to Server outage.", services.TOPIC_CHANGED, "General question",
              "Server outage"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_each_property_saves_through_htmx_with_an_event_and_the_reason_as_a_note(
    as_agent, change, desk, ken_ticket, name
):
    attr, column, message, kind, before, after = CASES[name]
    value = getattr(desk, attr)
    as_agent(desk.john)

    response = change(ken_ticket, name, value.pk, reason="Customer called twice.")

    assert response.status_code == 200, response.content.decode()[:3000]
    html = response.content.decode()
    assert said(html).startswith(message)
    ticket = reload(ken_ticket)
    assert getattr(ticket, f"{column}_id") == value.pk
    assert panel_version(html) == ticket.version  # the panel carries the new version
    event = Event.objects.filter(ticket=ticket, kind=kind).latest("id")
    assert (event.actor, event.before, event.after) == (desk.john.user, before, after)
    note = ThreadEntry.objects.get(ticket=ticket, kind=EntryKind.NOTE)
    assert (note.body_text, note.author) == ("Customer called twice.", desk.john.user)
    assert 'id="timeline" hx-swap-oob="true"' in html and "Customer called twice." in html


@pytest.mark.parametrize("name", list(CASES))
def test_each_property_saves_from_a_plain_post_and_redirects_with_a_flash(as_agent, change, desk, ken_ticket, name):
    attr, column, message, *_ = CASES[name]
    value = getattr(desk, attr)
    as_agent(desk.john)

    response = change(ken_ticket, name, value.pk, htmx=False)

    assert response.status_code == 302
    assert response["Location"] == ticket_url(ken_ticket)
    assert message in flashes(response)
    assert getattr(reload(ken_ticket), f"{column}_id") == value.pk


def test_unassigned_releases_the_ticket_and_keeps_the_reason(as_agent, change, desk, ken_ticket):
    services.assign(desk.john.user, ken_ticket, agent=desk.john)
    as_agent(desk.john)

    response = change(ken_ticket, "assignee", "", reason="Off sick today.")

    assert response.status_code == 200
    assert said(response.content.decode()).startswith("Ticket released: nobody is assigned to it now.")
    assert reload(ken_ticket).assignee is None
    assert ThreadEntry.objects.filter(ticket=ken_ticket, kind=EntryKind.NOTE, body_text="Off sick today.").exists()


def test_the_help_topic_can_be_removed(as_agent, change, desk, ken_ticket):
    as_agent(desk.john)
    response = change(ken_ticket, "topic", "")
    assert said(response.content.decode()).startswith("Help topic removed.")
    assert reload(ken_ticket).topic is None


def test_a_team_cannot_be_taken_off_here(as_agent, change, desk, ken_ticket):
    services.assign(desk.john.user, ken_ticket, team=desk.ops)
    as_agent(desk.john)
    with unchanged(ken_ticket):
        response = change(ken_ticket, "team", "")
    assert response.status_code == 400
    assert "A team cannot be taken off a ticket here" in response.content.decode()


def test_the_header_badges_and_the_panel_follow_the_change(as_agent, change, desk, ken_ticket):
    as_agent(desk.john)
    html = change(ken_ticket, "priority", desk.sev_a.pk).content.decode()
    assert '<p class="ticket-badges" id="ticket-badges" hx-swap-oob="true">' in html
    assert '<span class="badge badge-priority priority-1">Sev-A (Emergency)</span>' in html
    assert f'<option value="{desk.sev_a.pk}" selected>Sev-A (Emergency)</option>' in html


# ---------------------------------------------------------------------------- refusals


def test_a_stale_panel_gets_409_with_the_news_and_fresh_values_and_nothing_changes(
    as_agent, change, client, desk, ken_ticket
):
    as_agent(desk.john)
    loaded = panel_version(client.get(ticket_url(ken_ticket)).content.decode())
    services.assign(desk.john.user, ken_ticket, agent=desk.jane)  # meanwhile, in another tab
    fresh = reload(ken_ticket)

    with unchanged(fresh):
        response = change(ken_ticket, "priority", desk.sev_a.pk, version=loaded)

    assert response.status_code == 409
    html = response.content.decode()
    assert f"Ticket #{ken_ticket.number} changed while you were working on it." in html
    assert panel_version(html) == fresh.version != loaded
    assert f'<option value="{desk.sev_c.pk}" selected>' in html  # as the ticket is now
    assert f'<option value="{desk.jane.pk}" selected>Jane Doe</option>' in html
    assert "John Doe assigned the ticket to Jane Doe" in html  # the news, in the timeline


def test_a_stale_plain_post_shows_the_page_with_the_message(as_agent, change, desk, ken_ticket):
    as_agent(desk.john)
    loaded = reload(ken_ticket).version
    services.set_status(desk.john.user, ken_ticket, status=desk.pending)
    response = change(ken_ticket, "priority", desk.sev_a.pk, version=loaded, htmx=False)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Not done: the ticket changed while you were working on it." in html
    assert "changed while you were working on it. Review the latest activity" in html
    assert reload(ken_ticket).priority == desk.sev_c


@pytest.mark.parametrize("name", list(CASES))
def test_an_observer_gets_403_and_nothing_changes(as_agent, change, desk, ken_ticket, name):
    attr = CASES[name][0]
    as_agent(desk.olga)
    with unchanged(ken_ticket):
        response = change(ken_ticket, name, getattr(desk, attr).pk)
    assert response.status_code == 403
    assert re.search(r"You cannot [a-z ']+ this ticket", response.content.decode())


def test_an_observer_sees_values_not_selects(as_agent, desk, ken_ticket):
    html = as_agent(desk.olga).get(ticket_url(ken_ticket)).content.decode()
    for name in CASES:
        assert f'id="id_props-{name}"' not in html
        assert f'<span class="prop-value" id="prop-{name}">' in html
    assert '<span class="prop-value" id="prop-priority">Sev-C (Normal)</span>' in html
    assert "Save changes" not in html


def test_another_departments_ticket_is_a_404(as_agent, change, desk, ken_ticket):
    as_agent(desk.bill)
    with unchanged(ken_ticket):
        response = change(ken_ticket, "priority", desk.sev_a.pk)
    assert response.status_code == 404
    assert "does not exist or is not in your departments" in response.content.decode()


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("value", ["999999", "abc", "<script>alert(1)</script>", "1.5", "-1"])
def test_hostile_values_are_a_400_with_a_clear_error(as_agent, change, desk, ken_ticket, name, value):
    as_agent(desk.john)
    with unchanged(ken_ticket):
        response = change(ken_ticket, name, value)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice." in html
    assert "<script>alert(1)</script>" not in html


def test_an_unknown_property_is_a_404_and_a_missing_version_a_400(as_agent, client, desk, ken_ticket):
    as_agent(desk.john)
    assert client.post(prop_url(ken_ticket, "subject"), {"props-subject": "x"}).status_code == 404
    response = client.post(prop_url(ken_ticket, "priority"), {"props-priority": desk.sev_a.pk}, headers=HTMX)
    assert response.status_code == 400
    assert "The form was incomplete. Reload the ticket and try again." in response.content.decode()
    assert client.get(prop_url(ken_ticket, "priority")).status_code == 405


def test_the_panel_refuses_an_outsider_in_a_department_that_assigns_only_to_members(as_agent, change, desk, ken_ticket):
    desk.support.assign_members_only = True
    desk.support.save()
    as_agent(desk.john)
    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()
    assignee = html[
        html.index('id="id_props-assignee"') : html.index("</select>", html.index('id="id_props-assignee"'))
    ]
    assert "John Doe" in assignee and "Jane Doe" not in assignee
    with unchanged(ken_ticket):
        response = change(ken_ticket, "assignee", desk.jane.pk)
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


# ---------------------------------------------------------------------------- transfer


def test_after_a_transfer_the_assignee_list_is_the_new_departments(as_agent, change, desk, ken_ticket, superagent):
    desk.sysadmin.assign_members_only = True
    desk.sysadmin.save()
    as_agent(superagent)

    html = change(ken_ticket, "department", desk.sysadmin.pk).content.decode()

    start = html.index('id="id_props-assignee"')
    assignee = html[start : html.index("</select>", start)]
    assert re.findall(r'<option value="\d+">([^<]*)</option>', assignee) == ["Jane Doe"]
    # An outsider is refused by the service with the department's rule, not silently.
    agent = Agent.objects.get(user=desk.bill.user)
    response = change(ken_ticket, "assignee", agent.pk)
    assert response.status_code == 400


def test_without_javascript_one_save_transfers_and_assigns_and_john_is_told_why_his_controls_went(
    as_agent, client, desk, ken_ticket
):
    as_agent(desk.john)
    response = client.post(
        reverse("staff:ticket_properties", args=[ken_ticket.number]),
        {
            "props-version": ken_ticket.version,
            "props-status": desk.open.pk,
            "props-priority": desk.sev_a.pk,
            "props-assignee": desk.jane.pk,
            "props-team": "",
            "props-department": desk.sysadmin.pk,
            "props-topic": desk.general.pk,
            "props-note": "Jane, over to you.",
        },
    )
    assert response.status_code == 302
    assert "Ticket transferred to System Administration and assigned to Jane Doe." in flashes(response)
    assert "Priority changed to Sev-A (Emergency)." in flashes(response)  # before the move took his rights
    ticket = reload(ken_ticket)
    assert (ticket.department, ticket.assignee, ticket.priority) == (desk.sysadmin, desk.jane, desk.sev_a)
    assert Referral.objects.filter(ticket=ticket, agent=desk.john).exists()
    assert ThreadEntry.objects.filter(kind=EntryKind.NOTE, body_text="Jane, over to you.").count() == 1
    page = client.get(ticket_url(ken_ticket)).content.decode()
    assert "You follow this ticket; System Administration handles it now. You can reply and add notes." in page
    assert 'id="id_props-department"' not in page


def test_without_javascript_a_refused_pair_keeps_what_was_chosen(as_agent, client, desk, ken_ticket):
    desk.sysadmin.assign_members_only = True
    desk.sysadmin.save()
    as_agent(desk.john)
    with unchanged(ken_ticket):
        response = client.post(
            reverse("staff:ticket_properties", args=[ken_ticket.number]),
            {
                "props-version": ken_ticket.version,
                "props-department": desk.sysadmin.pk,
                "props-assignee": desk.bill.pk,
                "props-note": "Needs root.",
            },
        )
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        "Bill Payne is not a member of System Administration, which assigns its tickets only to its own agents." in html
    )
    assert re.search(rf'<option value="{desk.sysadmin.pk}" selected>System Administration</option>', html)
    assert re.search(rf'<option value="{desk.bill.pk}" selected>Bill Payne</option>', html)
    assert 'value="Needs root."' in html


def test_without_javascript_nothing_chosen_changes_nothing(as_agent, client, desk, ken_ticket):
    as_agent(desk.john)
    with unchanged(ken_ticket):
        response = client.post(
            reverse("staff:ticket_properties", args=[ken_ticket.number]),
            {"props-version": ken_ticket.version, "props-priority": desk.sev_c.pk},
        )
    assert response.status_code == 302
    assert "Nothing was changed: every property is as it was." in flashes(response)


# ---------------------------------------------------------------------------- undo


def undo(client, ticket, token: str, htmx: bool = True):
    url = reverse("staff:ticket_property_undo", args=[ticket.number])
    return client.post(url, {"token": token}, headers=HTMX if htmx else {})


def test_undo_restores_the_value_through_the_service_and_leaves_its_own_event(
    as_agent, change, client, desk, ken_ticket
):
    as_agent(desk.john)
    token = undo_token(change(ken_ticket, "priority", desk.sev_a.pk).content.decode())

    response = undo(client, ken_ticket, token)

    assert response.status_code == 200
    assert said(response.content.decode()) == "Undone. Priority changed to Sev-C (Normal)."
    assert reload(ken_ticket).priority == desk.sev_c
    sentences = list(Event.objects.filter(kind=EventKind.PRIORITY).order_by("id").values_list("before", "after"))
    assert sentences == [("Sev-C (Normal)", "Sev-A (Emergency)"), ("Sev-A (Emergency)", "Sev-C (Normal)")]
    assert 'name="token"' not in response.content.decode()  # an undo is not itself undone


@pytest.mark.parametrize("name", ["status", "assignee", "topic", "department"])
def test_undo_works_for_each_kind_of_change(as_agent, change, client, desk, ken_ticket, superagent, name):
    attr, column, *_ = CASES[name]
    as_agent(superagent)  # keeps every right after a transfer
    before = getattr(reload(ken_ticket), f"{column}_id")
    token = undo_token(change(ken_ticket, name, getattr(desk, attr).pk).content.decode())
    assert undo(client, ken_ticket, token).status_code == 200
    assert getattr(reload(ken_ticket), f"{column}_id") == before


def test_no_undo_is_offered_when_the_change_moved_more_or_took_the_right_away(as_agent, change, desk, ken_ticket):
    services.assign(desk.john.user, ken_ticket, agent=desk.john)
    as_agent(desk.john)
    # A team takes the ticket off its agent too: one step cannot take both back.
    assert 'name="token"' not in change(ken_ticket, "team", desk.ops.pk).content.decode()
    # Sending it to another department leaves John following it, unable to move it back.
    response = change(ken_ticket, "department", desk.billing.pk)
    assert response.status_code == 200
    assert 'name="token"' not in response.content.decode()


def test_an_expired_undo_is_refused_and_changes_nothing(as_agent, change, client, desk, ken_ticket, monkeypatch):
    as_agent(desk.john)
    token = undo_token(change(ken_ticket, "priority", desk.sev_a.pk).content.decode())
    later = time.time() + properties_views.UNDO_SECONDS + 1
    monkeypatch.setattr(signing.time, "time", lambda: later)

    with unchanged(ken_ticket):
        response = undo(client, ken_ticket, token)

    assert response.status_code == 400
    assert "Too late to undo: a change can be undone for 10 seconds." in response.content.decode()


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # tampered signature
        lambda token: "not-a-token",
        lambda token: signing.TimestampSigner(salt="something else").sign_object({"t": 1}),
    ],
)
def test_a_forged_undo_is_refused_and_changes_nothing(as_agent, change, client, desk, ken_ticket, forge):
    as_agent(desk.john)
    token = undo_token(change(ken_ticket, "priority", desk.sev_a.pk).content.decode())
    with unchanged(ken_ticket):
        response = undo(client, ken_ticket, forge(token))
    assert response.status_code == 400
    assert "This undo request is not valid." in response.content.decode()


def test_an_undo_made_for_another_ticket_is_refused(as_agent, change, client, desk, ken_ticket):
    other = services.open_ticket(desk.ken, requester=desk.ken, subject="Scanner", message="x", topic=desk.general)
    as_agent(desk.john)
    token = undo_token(change(ken_ticket, "priority", desk.sev_a.pk).content.decode())
    with unchanged(other):
        response = undo(client, other, token)
    assert response.status_code == 400


def test_another_agents_undo_is_refused(as_agent, change, client, desk, ken_ticket, sam):
    as_agent(desk.john)
    token = undo_token(change(ken_ticket, "priority", desk.sev_a.pk).content.decode())
    as_agent(sam)
    with unchanged(ken_ticket):
        response = undo(client, ken_ticket, token)
    assert response.status_code == 403
    assert "Only the agent who made a change can undo it." in response.content.decode()


def test_an_undo_after_someone_else_changed_the_ticket_is_a_409(as_agent, change, client, desk, ken_ticket, sam):
    as_agent(desk.john)
    token = undo_token(change(ken_ticket, "priority", desk.sev_a.pk).content.decode())
    services.add_note(sam.user, ken_ticket, note="Looking too.")  # meanwhile
    with unchanged(ken_ticket):
        response = undo(client, ken_ticket, token, htmx=False)
    assert response.status_code == 409
    assert "changed while you were working on it" in response.content.decode()
    assert reload(ken_ticket).priority == desk.sev_a


def test_undo_without_javascript_redirects_with_a_flash(as_agent, change, client, desk, ken_ticket):
    as_agent(desk.john)
    token = undo_token(change(ken_ticket, "topic", desk.outage.pk).content.decode())
    response = undo(client, ken_ticket, token, htmx=False)
    assert response.status_code == 302
    assert "Help topic changed to General question." in flashes(response)
