"""Administrators set the automation up in the admin; nonsense comes back as a clear error that
keeps what was typed, never a 500 or a saved value."""

from __future__ import annotations

import pytest

from tessera.accounts.models import AssignmentMode, Department
from tessera.automation.models import EscalationRule


@pytest.fixture
def admin_client_(client, desk):
    client.force_login(desk.admin)
    return client


def department_form(desk, **changes):
    return {
        "name": "Support",
        "email": "support@example.com",
        "is_public": "on",
        "unknown_senders": "collaborator",
        "assignment_mode": AssignmentMode.ROUND_ROBIN,
        "open_ticket_limit": "",
        "auto_close_days": "3",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        **changes,
    }


def test_a_department_takes_its_assignment_mode_limit_and_quiet_period(admin_client_, desk):
    form = department_form(desk, open_ticket_limit="12", auto_close_days="")
    response = admin_client_.post(f"/admin/accounts/department/{desk.support.pk}/change/", form)

    assert response.status_code == 302
    support = Department.objects.get(pk=desk.support.pk)
    assert (support.assignment_mode, support.open_ticket_limit, support.auto_close_days) == ("round_robin", 12, None)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("open_ticket_limit", "-1", "Give a limit of 1 or more open tickets"),
        ("open_ticket_limit", "0", "Give a limit of 1 or more open tickets"),
        ("open_ticket_limit", "lots", "Enter a whole number."),
        ("auto_close_days", "-3", "Give 1 day or more"),
        ("assignment_mode", "everyone", "Select a valid choice."),
    ],
)
def test_a_nonsense_limit_or_mode_is_refused_with_the_reason(admin_client_, desk, field, value, message):
    response = admin_client_.post(
        f"/admin/accounts/department/{desk.support.pk}/change/", department_form(desk, **{field: value})
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert f'value="{value}"' in html or f'value="{value}" selected' in html or value == "everyone"
    assert Department.objects.get(pk=desk.support.pk).assignment_mode == AssignmentMode.MANUAL


def rule_form(**changes):
    return {
        "name": "Late",
        "is_active": "on",
        "department": "",
        "trigger": "overdue",
        "minutes": "",
        "priority_change": "step",
        "priority": "",
        "assign_team": "",
        "assign_agent": "",
        **changes,
    }


def test_an_escalation_rule_is_saved_from_the_admin(admin_client_, desk):
    response = admin_client_.post("/admin/automation/escalationrule/add/", rule_form(notify=[desk.john.pk]))

    assert response.status_code == 302
    saved = EscalationRule.objects.get(name="Late")
    assert list(saved.notify.all()) == [desk.john]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"trigger": "no_response"}, "Say after how many business minutes"),
        ({"trigger": "no_response", "minutes": "-5"}, "Ensure this value is greater than or equal to 0."),
        ({"priority_change": "to"}, "Choose the priority to raise the ticket to."),
        ({"priority_change": ""}, "Choose what the rule does"),
    ],
)
def test_an_escalation_rule_that_cannot_work_is_refused(admin_client_, desk, changes, message):
    response = admin_client_.post("/admin/automation/escalationrule/add/", rule_form(**changes))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not EscalationRule.objects.exists()
