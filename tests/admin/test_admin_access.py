"""The configuration admin is for administrators only, and covers what they configure."""

import pytest

from django.urls import reverse

CONFIGURED_MODELS = [
    "accounts/department",
    "accounts/team",
    "accounts/agent",
    "accounts/role",
    "accounts/user",
    "accounts/organization",
    "tickets/helptopic",
    "tickets/priority",
    "tickets/status",
]


@pytest.mark.parametrize("who", ["john", "ken"])
def test_agents_and_end_users_are_turned_away_from_the_admin(client, desk, who):
    user = desk.john.user if who == "john" else desk.ken
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_anonymous_visitors_are_asked_to_sign_in_to_the_admin(client, db):
    response = client.get("/admin/accounts/department/")
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


@pytest.mark.parametrize("model", CONFIGURED_MODELS)
def test_administrator_can_open_every_configuration_page(client, desk, model):
    client.force_login(desk.admin)
    assert client.get(f"/admin/{model}/").status_code == 200
    assert client.get(f"/admin/{model}/add/").status_code == 200


def test_administrator_defines_a_role_by_ticking_permissions(client, desk):
    from tessera.accounts.models import Role

    client.force_login(desk.admin)
    response = client.post("/admin/accounts/role/add/", {"name": "Tier 2", "permissions": ["view", "reply", "note"]})
    assert response.status_code == 302
    assert Role.objects.get(name="Tier 2").permissions == ["view", "reply", "note"]


def test_administrator_gives_an_agent_a_role_in_a_department(client, desk):
    from tessera.accounts.models import Agent, Role, User

    client.force_login(desk.admin)
    mia = User.objects.create_user("mia@example.com", name="Mia")
    data = {
        "user": mia.pk,
        "signature": "Mia",
        "is_available": "on",
        "is_active": "on",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-department": desk.support.pk,
        "memberships-0-role": Role.objects.get(name="Agent").pk,
        "memberships-0-is_primary": "on",
    }
    response = client.post("/admin/accounts/agent/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    agent = Agent.objects.get(user=mia)
    assert agent.memberships.get().department == desk.support


def test_admin_index_lists_no_django_groups_and_puts_task_results_under_system(client, desk):
    client.force_login(desk.admin)
    html = client.get("/admin/").content.decode()
    assert "/admin/auth/group/" not in html
    assert client.get("/admin/auth/group/").status_code == 404
    system = html.index(">System<")
    assert "/admin/django_tasks_database/dbtaskresult/" in html[system:]
    assert "Tasks Database Backend" not in html


def test_user_form_offers_no_groups(client, desk):
    client.force_login(desk.admin)
    html = client.get(f"/admin/accounts/user/{desk.ken.pk}/change/").content.decode()
    assert 'name="groups"' not in html
