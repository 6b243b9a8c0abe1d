"""The queue's bulk bar, and the merge and link panel on the ticket page, through the test client."""

from __future__ import annotations

import re

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tessera.accounts.models import Agent, Membership, Role, User
from tessera.tickets import access_links, services
from tessera.tickets.models import EventKind, Referral, State, Ticket, TicketLink

from .conftest import flashes, ticket_url

QUEUE = "/staff/queues/open/"


def open_many(desk, n: int, *, topic=None, requester=None) -> list[Ticket]:
    requester = requester or desk.ken
    return [
        services.open_ticket(
            requester, requester=requester, subject=f"Printer {i}", message=f"Jam {i}.", topic=topic or desk.general
        )
        for i in range(n)
    ]


def fresh(ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def mia(desk):
    """A Manager in Support: may merge."""
    user = User.objects.create_user("mia@example.com", desk.password, name="Mia Manager")
    agent = Agent.objects.create(user=user)
    Membership.objects.create(
        agent=agent, department=desk.support, role=Role.objects.get(name="Manager"), is_primary=True
    )
    return agent


@pytest.fixture
def followed(desk):
    """A System Administration ticket John only follows: he sees it, he cannot assign it."""
    [ticket] = open_many(desk, 1, topic=desk.outage)
    Referral.objects.create(ticket=ticket, agent=desk.john)
    return ticket


def bulk_post(client, tickets, action: str, *, back: str = QUEUE, **values):
    data = {"tickets": [t.number if isinstance(t, Ticket) else t for t in tickets], "bulk-action": action}
    data["bulk-next"] = back
    data.update({f"bulk-{name}": value for name, value in values.items()})
    return client.post("/staff/bulk/", data)


# ---------------------------------------------------------------------------- the bar on the queue page


def test_queue_page_has_a_bulk_bar_with_labelled_controls_and_a_checkbox_per_ticket(as_agent, desk):
    tickets = open_many(desk, 2)
    html = as_agent(desk.john).get(QUEUE).content.decode()

    assert '<form id="bulk-form" method="post" action="/staff/bulk/">' in html
    assert '<label for="id_bulk-action">Bulk action</label>' in html
    for label in ("Assign to agent", "Assign to team", "Transfer to department", "Change priority", "Change status"):
        assert f">{label}</option>" in html
    assert ">Merge into first selected</option>" in html
    for field, label in [
        ("agent", "Agent to assign"),
        ("team", "Team to assign"),
        ("department", "Department to transfer to"),
        ("priority", "New priority"),
        ("status", "New status"),
    ]:
        assert f'<label for="id_bulk-{field}">{label}</label>' in html
    assert re.search(
        r'<button type="submit" formaction="/staff/bulk/" formmethod="post">Apply to selected</button>', html
    )
    for t in tickets:
        assert (
            f'<input type="checkbox" name="tickets" value="{t.number}" aria-label="Select ticket #{t.number}">' in html
        )
    assert 'name="bulk-next" value="/staff/queues/open/"' in html
    assert not re.findall(r"<script(?![^>]*\bsrc=)", html)  # no inline script (strict CSP)


def queue_queries(client) -> int:
    client.get(QUEUE)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(QUEUE).status_code == 200
    return len(ctx.captured_queries)


def test_the_bulk_bar_costs_no_query_per_ticket_agent_or_team(as_agent, desk):
    from tessera.accounts.models import Team

    client = as_agent(desk.john)
    open_many(desk, 3)
    small = queue_queries(client)
    open_many(desk, 27)
    for i in range(8):
        user = User.objects.create_user(f"agent{i}@example.com", name=f"Agent {i}")
        Agent.objects.create(user=user)
        Team.objects.create(name=f"Team {i}")
    assert queue_queries(client) == small


# ---------------------------------------------------------------------------- posting the bar


def test_bulk_assign_goes_through_for_two_and_lists_the_refused_one(as_agent, desk, followed):
    a, b = open_many(desk, 2)
    client = as_agent(desk.john)

    response = bulk_post(client, [a, followed, b], "assign-agent", agent=desk.jane.pk)

    assert response.status_code == 302 and response["Location"] == QUEUE
    assert flashes(response) == [f"Updated 2 tickets. 1 refused: #{followed.number} — You cannot assign this ticket."]
    assert fresh(a).assignee == desk.jane and fresh(b).assignee == desk.jane
    assert fresh(followed).assignee is None


@pytest.mark.parametrize(
    "action, value, check",
    [
        ("assign-team", lambda d: {"team": d.ops.pk}, lambda t, d: t.team == d.ops),
        ("transfer", lambda d: {"department": d.sysadmin.pk}, lambda t, d: t.department == d.sysadmin),
        ("priority", lambda d: {"priority": d.sev_a.pk}, lambda t, d: t.priority == d.sev_a),
        ("status", lambda d: {"status": d.pending.pk}, lambda t, d: t.state == State.PENDING),
    ],
)
def test_every_bulk_action_changes_each_selected_ticket(as_agent, desk, action, value, check):
    tickets = open_many(desk, 3)

    response = bulk_post(as_agent(desk.john), tickets, action, **value(desk))

    assert flashes(response) == ["Updated 3 tickets."]
    assert all(check(fresh(t), desk) for t in tickets)


def test_bulk_merge_folds_the_others_into_the_first_selected(as_agent, desk, mia):
    target, *sources = open_many(desk, 3)

    response = bulk_post(as_agent(mia), [target, *sources], "merge")

    assert flashes(response) == [f"Merged 2 tickets into #{target.number}."]
    assert all(fresh(s).merged_into_id == target.pk for s in sources)


def test_bulk_merge_by_an_agent_without_the_permission_refuses_every_ticket(as_agent, desk):
    target, a, b = open_many(desk, 3)

    response = bulk_post(as_agent(desk.john), [target, a, b], "merge")

    reason = f"You cannot merge tickets into #{target.number}"
    assert flashes(response) == [
        f"Merged 0 tickets into #{target.number}. 2 refused: #{a.number} — {reason}; #{b.number} — {reason}."
    ]


@pytest.mark.parametrize(
    "tickets, action, values, message",
    [
        ([], "assign-agent", {}, "No tickets selected. Tick the boxes of the tickets to change first."),
        (["first"], "", {}, "Choose a bulk action."),
        (["first"], "explode", {}, "Choose a bulk action."),
        (["first"], "assign-agent", {}, "Choose the agent or team to assign the tickets to."),
        (
            ["first"],
            "assign-agent",
            {"agent": 99999},
            "That choice is no longer available. Reload the queue and try again.",
        ),
        (["first"], "merge", {}, "Select two or more tickets to merge."),
        (["abc"], "priority", {}, "The selection was not understood. Reload the queue and try again."),
    ],
)
def test_a_bulk_request_that_cannot_work_says_why_and_changes_nothing(
    as_agent, desk, ken_ticket, tickets, action, values, message
):
    selection = [ken_ticket.number if t == "first" else t for t in tickets]
    before = fresh(ken_ticket).version

    response = bulk_post(as_agent(desk.john), selection, action, **values)

    assert response.status_code == 302 and response["Location"] == QUEUE
    assert flashes(response) == [message]
    assert fresh(ken_ticket).version == before


def test_after_the_post_the_agent_lands_back_on_the_workspace_only(as_agent, desk, ken_ticket):
    client = as_agent(desk.john)
    for back in ("https://evil.example/", "//evil.example/staff/", "/admin/"):
        response = bulk_post(client, [ken_ticket], "priority", back=back, priority=desk.sev_a.pk)
        assert response["Location"] == "/staff/"
    response = bulk_post(
        client, [ken_ticket], "priority", back="/staff/queues/open/?sort=-number", priority=desk.sev_b.pk
    )
    assert response["Location"] == "/staff/queues/open/?sort=-number"


def test_the_bulk_endpoint_is_for_agents_posting(client, as_agent, desk, ken_ticket):
    assert client.post("/staff/bulk/", {"tickets": [ken_ticket.number]}).status_code == 302  # to sign-in
    assert as_agent(desk.ken).post("/staff/bulk/", {"tickets": [ken_ticket.number]}).status_code == 403
    assert as_agent(desk.john).get("/staff/bulk/").status_code == 405


def test_bill_cannot_reach_support_tickets_through_the_bulk_bar(as_agent, desk, ken_ticket):
    response = bulk_post(as_agent(desk.bill), [ken_ticket], "priority", priority=desk.sev_a.pk)

    assert flashes(response) == [
        f"Updated 0 tickets. 1 refused: #{ken_ticket.number} — "
        f"Ticket #{ken_ticket.number} does not exist or is not in your departments."
    ]
    assert fresh(ken_ticket).priority != desk.sev_a


# ---------------------------------------------------------------------------- the ticket page: link and merge


def test_linked_tickets_are_listed_on_both_pages_with_number_subject_and_status(as_agent, desk, ken_ticket):
    [other] = open_many(desk, 1)
    client = as_agent(desk.john)

    response = client.post(f"/staff/tickets/{ken_ticket.number}/link/", {"link-number": f"#{other.number}"})

    assert response["Location"] == ticket_url(ken_ticket)
    assert flashes(response) == [f"Linked to #{other.number}."]
    here = client.get(ticket_url(ken_ticket)).content.decode()
    there = client.get(ticket_url(other)).content.decode()
    assert '<h2 id="related-heading">Related tickets</h2>' in here
    assert (
        f'<a href="{ticket_url(other)}">#{other.number} Printer 0</a> <span class="badge state-open">Open</span>'
        in here
    )
    assert f'<a href="{ticket_url(ken_ticket)}">#{ken_ticket.number} Printer jams</a>' in there
    assert f"John Doe linked this ticket to #{other.number}" in here
    assert f"John Doe linked this ticket to #{ken_ticket.number}" in there


def test_unlink_button_removes_the_relation_from_both_pages(as_agent, desk, ken_ticket):
    [other] = open_many(desk, 1)
    services.link(desk.john.user, ken_ticket, other=other)
    client = as_agent(desk.john)
    html = client.get(ticket_url(other)).content.decode()
    assert f'<input type="hidden" name="unlink-number" value="{ken_ticket.number}">' in html

    response = client.post(f"/staff/tickets/{other.number}/unlink/", {"unlink-number": ken_ticket.number})

    assert flashes(response) == [f"#{ken_ticket.number} is no longer linked to this ticket."]
    assert not TicketLink.objects.exists()
    assert "No related tickets." in client.get(ticket_url(ken_ticket)).content.decode()


def test_related_tickets_the_viewer_cannot_see_are_not_listed(as_agent, desk, ken_ticket):
    [outage] = open_many(desk, 1, topic=desk.outage)
    TicketLink.objects.create(ticket_id=min(ken_ticket.pk, outage.pk), other_id=max(ken_ticket.pk, outage.pk))

    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()
    related = re.search(r'<details class="card panel tool" id="tool-links">.*?</details>', html, re.S).group(0)

    assert "Server" not in related and f"#{outage.number}" not in html
    assert "No related tickets." in related


def test_link_form_errors_come_back_as_a_message(as_agent, desk, ken_ticket):
    client = as_agent(desk.john)
    url = f"/staff/tickets/{ken_ticket.number}/link/"
    # Each POST redirects to the ticket page; the test does not follow it, so messages pile up.
    assert flashes(client.post(url, {"link-number": "soon"})) == ["Type a ticket number, such as 100001."]
    assert flashes(client.post(url, {"link-number": "999999"}))[-1] == (
        "Ticket #999999 does not exist or is not in your departments."
    )
    assert flashes(client.post(url, {"link-number": ken_ticket.number}))[-1] == "A ticket cannot be linked to itself."


def test_only_agents_who_may_merge_see_the_merge_form(as_agent, desk, mia, ken_ticket):
    assert "Merge this ticket into" not in as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()
    html = as_agent(mia).get(ticket_url(ken_ticket)).content.decode()
    assert '<label for="merge-number">Merge this ticket into</label>' in html
    assert "Merge into that ticket</button>" in html
    assert f'name="merge-version" value="{ken_ticket.version}"' in html


def test_merging_from_the_duplicates_page_lands_on_the_surviving_ticket(as_agent, desk, mia, ken_ticket):
    [dup] = open_many(desk, 1)
    client = as_agent(mia)

    response = client.post(
        f"/staff/tickets/{dup.number}/merge/", {"merge-number": ken_ticket.number, "merge-version": dup.version}
    )

    assert response["Location"] == ticket_url(ken_ticket)
    assert flashes(response) == [
        f"#{dup.number} merged into #{ken_ticket.number}. Its messages are below; #{dup.number} is closed."
    ]
    target = client.get(ticket_url(ken_ticket)).content.decode()
    assert "Jam 0." in target
    assert f"Mia Manager merged #{dup.number} into this ticket" in target
    assert '<h3 id="merged-from-heading">Merged into this ticket</h3>' in target
    source = client.get(ticket_url(dup)).content.decode()
    assert (
        f'<p class="merged-pointer">Merged into <a href="{ticket_url(ken_ticket)}">#{ken_ticket.number}</a></p>'
        in source
    )
    assert f"Mia Manager merged #{dup.number} into #{ken_ticket.number}" in source
    assert "Merge this ticket into" not in source and "Send reply" not in source


def test_merge_from_a_stale_page_or_by_an_agent_is_refused_with_a_message(as_agent, desk, mia, ken_ticket):
    [dup] = open_many(desk, 1)
    url = f"/staff/tickets/{dup.number}/merge/"
    stale = as_agent(mia).post(url, {"merge-number": ken_ticket.number, "merge-version": dup.version - 1 or 99})
    assert stale["Location"] == ticket_url(dup)
    assert flashes(stale)[0].startswith(f"Ticket #{dup.number} changed while you were working on it.")

    refused = as_agent(desk.john).post(url, {"merge-number": ken_ticket.number, "merge-version": dup.version})
    assert flashes(refused)[-1] == f"You cannot merge tickets into #{ken_ticket.number}."
    assert fresh(dup).merged_into_id is None
    assert not fresh(dup).events.filter(kind=EventKind.MERGED).exists()


# ---------------------------------------------------------------------------- the portal pointer


def test_the_access_link_of_a_merged_ticket_points_to_the_surviving_one(client, desk, mia, ken_ticket):
    kim = User.objects.create_user("kim@example.com", name="Kim Lee")
    [dup] = open_many(desk, 1, requester=kim)
    services.merge(mia.user, ken_ticket, sources=[dup])

    html = client.get(reverse("portal:access", args=[access_links.make_token(fresh(dup), kim)])).content.decode()

    target_link = f"/t/{access_links.make_token(fresh(ken_ticket), kim)}/"
    assert f'This ticket was merged into <a href="{target_link}">#{ken_ticket.number}</a>' in html
    assert "Send reply" not in html and "can no longer be answered" not in html
    assert client.get(target_link).status_code == 200


def test_someone_no_longer_on_the_surviving_ticket_sees_no_link_to_it(client, desk, mia, ken_ticket):
    kim = User.objects.create_user("kim@example.com", name="Kim Lee")
    [dup] = open_many(desk, 1, requester=kim)
    services.merge(mia.user, ken_ticket, sources=[dup])
    services.remove_collaborator(desk.john.user, fresh(ken_ticket), user=kim)

    client.force_login(kim)
    html = client.get(f"/tickets/{dup.number}/").content.decode()

    assert "This ticket was merged into another ticket and is closed." in html
    assert f"#{ken_ticket.number}" not in html
