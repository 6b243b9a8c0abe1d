"""Where the ticket is decides who the panel offers as its assignee: the department's members
first, and only them (or its team's members) when the department restricts assignment; after a
transfer the list is the new department's. A pair that does not fit is refused with the reason,
keeping what was chosen."""

from __future__ import annotations

import re

from django.urls import reverse

from tessera.accounts.models import Agent, Department
from tessera.tickets import services

from .conftest import field_error, ticket_url

HTMX = {"HX-Request": "true"}


def assignee_select(html: str) -> str:
    start = html.index('id="id_props-assignee"')
    return html[start : html.index("</select>", start)]


def offered(html: str) -> list[str]:
    return re.findall(r'<option value="\d+"(?: selected)?>([^<]*)</option>', assignee_select(html))


def restrict(department: Department) -> None:
    department.assign_members_only = True
    department.save(update_fields=["assign_members_only"])


def test_an_open_department_offers_its_members_first_then_everyone_else(as_agent, desk, ken_ticket):
    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()

    select = assignee_select(html)
    assert offered(html)[:2] == ["John Doe", "Olga Observer"]
    assert set(offered(html)[2:]) == {"Bill Payne", "Jane Doe"}
    assert select.index('label="Support"') < select.index('label="Other departments"')
    assert '<option value="" selected>Unassigned</option>' in select


def test_a_restricted_department_offers_only_its_members(as_agent, desk, ken_ticket):
    restrict(desk.support)

    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()

    assert offered(html) == ["John Doe", "Olga Observer"]
    assert "Other departments" not in assignee_select(html)


def test_a_member_of_the_tickets_team_is_offered_by_a_restricted_department(as_agent, desk, ken_ticket):
    services.assign(desk.john.user, ken_ticket, team=desk.ops)
    restrict(desk.support)

    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()

    assert sorted(offered(html)) == ["Jane Doe", "John Doe", "Olga Observer"]


def test_after_a_transfer_the_list_is_the_new_departments(as_agent, desk, ken_ticket):
    restrict(desk.sysadmin)
    Agent.objects.create(user=desk.admin)  # a superuser keeps the right to assign wherever it goes
    client = as_agent(desk.admin)
    url = reverse("staff:ticket_property", args=[ken_ticket.number, "department"])

    html = client.post(url, {"props-department": desk.sysadmin.pk, "props-version": 1}, headers=HTMX).content.decode()

    assert offered(html) == ["Jane Doe"]
    page = client.get(ticket_url(ken_ticket)).content.decode()
    assert offered(page) == ["Jane Doe"]


def test_a_mismatched_pair_is_refused_at_the_assignee_keeping_what_was_chosen(as_agent, client, desk, ken_ticket):
    restrict(desk.sysadmin)
    as_agent(desk.john)

    response = client.post(
        reverse("staff:ticket_properties", args=[ken_ticket.number]),
        {
            "props-department": desk.sysadmin.pk,
            "props-assignee": desk.bill.pk,
            "props-note": "Needs root.",
            "props-version": ken_ticket.version,
        },
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert field_error(html, "id_props-assignee") == (
        "Bill Payne is not a member of System Administration, which assigns its tickets only to its own "
        "agents. Choose one of them, or a team Bill Payne belongs to."
    )
    assert re.search(rf'<option value="{desk.sysadmin.pk}" selected>System Administration</option>', html)
    assert re.search(rf'<option value="{desk.bill.pk}" selected>Bill Payne</option>', html)
    assert 'value="Needs root."' in html
    ken_ticket.refresh_from_db()
    assert ken_ticket.department == desk.support


def test_an_agent_who_cannot_see_the_ticket_learns_nothing(as_agent, desk, ken_ticket):
    url = reverse("staff:ticket_property", args=[ken_ticket.number, "department"])
    response = as_agent(desk.bill).post(url, {"props-department": desk.sysadmin.pk, "props-version": 1})

    assert response.status_code == 404
    assert "Jane Doe" not in response.content.decode()
