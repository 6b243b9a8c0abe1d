"""The transfer form narrows its agents to the chosen department, and the page explains a refusal."""

from __future__ import annotations

import re

from django.urls import reverse

from tessera.accounts.models import Department
from tessera.tickets import services

from .conftest import field_error, ticket_url


def options_url(ticket, department=None) -> str:
    url = reverse("staff:ticket_transfer_agents", args=[ticket.number])
    return f"{url}?department={department.pk}" if department is not None else url


def offered(html: str) -> list[str]:
    return re.findall(r'<option value="\d+">([^<]*)</option>', html)


def restrict(department: Department) -> None:
    department.assign_members_only = True
    department.save(update_fields=["assign_members_only"])


def test_the_transfer_form_knows_where_to_ask_for_a_departments_agents(as_agent, desk, ken_ticket):
    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()

    assert f'data-agent-options-url="{options_url(ken_ticket)}"' in html
    assert "js/transfer.js" in html


def test_a_restricted_department_offers_only_its_members(as_agent, desk, ken_ticket):
    restrict(desk.sysadmin)

    response = as_agent(desk.john).get(options_url(ken_ticket, desk.sysadmin))

    assert response.status_code == 200
    html = response.content.decode()
    assert offered(html) == ["Jane Doe (System Administration)"]
    assert '<optgroup label="System Administration">' in html
    assert '<option value="">Anyone in the department</option>' in html


def test_an_open_department_offers_its_members_first_then_everyone_else(as_agent, desk, ken_ticket):
    html = as_agent(desk.john).get(options_url(ken_ticket, desk.sysadmin)).content.decode()

    assert offered(html)[0] == "Jane Doe (System Administration)"
    assert set(offered(html)[1:]) == {
        "Bill Payne (Billing)",
        "John Doe (Support)",
        "Olga Observer (Support)",
    }
    assert html.index('label="System Administration"') < html.index('label="Other departments"')


def test_a_member_of_the_tickets_team_is_offered_by_a_restricted_department(as_agent, desk, ken_ticket):
    services.assign(desk.john.user, ken_ticket, team=desk.ops)
    restrict(desk.billing)

    html = as_agent(desk.john).get(options_url(ken_ticket, desk.billing)).content.decode()

    assert sorted(offered(html)) == ["Bill Payne (Billing)", "Jane Doe (System Administration)"]


def test_an_unknown_department_gets_every_agent(as_agent, desk, ken_ticket):
    html = as_agent(desk.john).get(f"{options_url(ken_ticket)}?department=abc").content.decode()

    assert len(offered(html)) == 4


def test_an_agent_who_cannot_see_the_ticket_learns_nothing(as_agent, desk, ken_ticket):
    response = as_agent(desk.bill).get(options_url(ken_ticket, desk.sysadmin))

    assert response.status_code == 404
    assert "Jane Doe" not in response.content.decode()


def test_an_observer_may_not_ask(as_agent, desk, ken_ticket):
    response = as_agent(desk.olga).get(options_url(ken_ticket, desk.sysadmin))

    assert response.status_code == 403
    assert "Jane Doe" not in response.content.decode()


def test_a_mismatched_pair_is_refused_at_the_agent_field_keeping_what_was_typed(as_agent, act, desk, ken_ticket):
    restrict(desk.sysadmin)
    as_agent(desk.john)

    response = act(ken_ticket, "transfer", department=desk.sysadmin.pk, agent=desk.bill.pk, note="Needs root.")

    assert response.status_code == 400
    html = response.content.decode()
    assert field_error(html, "id_transfer-agent") == (
        "Bill Payne is not a member of System Administration, which assigns its tickets only to its own "
        "agents. Choose one of them, or a team Bill Payne belongs to."
    )
    assert re.search(rf'<option value="{desk.sysadmin.pk}" selected>System Administration</option>', html)
    assert re.search(rf'<option value="{desk.bill.pk}" selected>Bill Payne \(Billing\)</option>', html)
    assert "Needs root.</textarea>" in html
    ken_ticket.refresh_from_db()
    assert ken_ticket.department == desk.support


def test_the_assign_form_of_a_restricted_department_offers_only_its_members(as_agent, act, desk, ken_ticket):
    restrict(desk.support)
    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()
    assign_form = html[html.index('id="id_assign-agent"') : html.index('id="id_assign-team"')]

    assert "John Doe" in assign_form and "Olga Observer" in assign_form
    assert "Jane Doe" not in assign_form and "Other departments" not in assign_form
