"""Who gets into the agent workspace, and what everyone else is told."""

from __future__ import annotations

from django.urls import reverse

from .conftest import flashes, ticket_url


def test_anonymous_visitor_is_sent_to_the_staff_sign_in(client, desk):
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/login/?next=/staff/"


def test_anonymous_visitor_of_a_ticket_comes_back_to_it_after_signing_in(client, desk, ken_ticket):
    response = client.get(ticket_url(ken_ticket))
    assert response.status_code == 302
    assert response["Location"] == f"/staff/login/?next=/staff/tickets/{ken_ticket.number}/"

    response = client.post(
        response["Location"],
        {"username": "John@Example.com", "password": desk.password, "next": ticket_url(ken_ticket)},
    )
    assert response.status_code == 302
    assert response["Location"] == ticket_url(ken_ticket)
    assert client.get(ticket_url(ken_ticket)).status_code == 200


def test_sign_in_page_asks_for_email_and_password(client, desk):
    html = client.get("/staff/login/").content.decode()
    assert '<label for="id_username">Email address</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert ">Sign in</button>" in html


def test_agent_signs_in_and_lands_on_the_dashboard(client, desk):
    response = client.post("/staff/login/", {"username": "john@example.com", "password": desk.password})
    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_wrong_password_is_refused_with_the_form_kept(client, desk):
    response = client.post("/staff/login/", {"username": "john@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct email address and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_end_user_is_refused_at_staff_sign_in_with_a_clear_message(client, desk):
    response = client.post("/staff/login/", {"username": "ken@example.com", "password": desk.password})
    assert response.status_code == 200
    html = response.content.decode()
    assert "ken@example.com is not an agent account" in html
    assert "sign in on the Help Center" in html
    assert "_auth_user_id" not in client.session


def test_signed_in_end_user_gets_a_403_page_explaining_the_workspace_is_for_agents(as_agent, desk, ken_ticket):
    client = as_agent(desk.ken)
    for url in ("/staff/", ticket_url(ken_ticket), "/staff/queues/open/"):
        response = client.get(url)
        assert response.status_code == 403
        html = response.content.decode()
        assert "This workspace is for agents" in html
        assert "not an agent account" in html
        assert "Printer jams" not in html


def test_inactive_agent_profile_is_refused_like_an_end_user(client, desk):
    desk.john.is_active = False
    desk.john.save()
    response = client.post("/staff/login/", {"username": "john@example.com", "password": desk.password})
    assert response.status_code == 200
    assert "not an agent account" in response.content.decode()


def test_agent_deactivated_mid_session_is_told_why_the_workspace_closed(as_agent, desk):
    client = as_agent(desk.john)
    desk.john.is_active = False
    desk.john.save()
    response = client.get("/staff/")
    assert response.status_code == 403
    assert "agent profile is inactive" in response.content.decode()


def test_superuser_may_sign_in_and_is_told_they_need_an_agent_profile_to_work_tickets(client, desk, ken_ticket):
    response = client.post("/staff/login/", {"username": "admin@example.com", "password": desk.password})
    assert response.status_code == 302
    response = client.get("/staff/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "administrator without an active agent profile" in html
    assert 'href="/admin/"' in html


def test_superuser_with_an_agent_profile_works_every_department(as_agent, desk, ken_ticket):
    from tessera.accounts.models import Agent, Membership

    ada = Agent.objects.create(user=desk.admin)
    Membership.objects.create(
        agent=ada, department=desk.billing, role=desk.john.memberships.get().role, is_primary=True
    )
    client = as_agent(desk.admin)
    response = client.get(ticket_url(ken_ticket))
    assert response.status_code == 200
    assert "Send reply" in response.content.decode()


def test_top_bar_names_the_agent_and_offers_portal_and_sign_out(as_agent, desk):
    html = as_agent(desk.john).get("/staff/").content.decode()
    assert "Signed in as John Doe" in html
    assert 'href="/">Help Center</a>' in html
    assert f'action="{reverse("staff:logout")}"' in html
    assert ">Sign out</button>" in html
    assert 'href="/admin/"' not in html


def test_top_bar_links_superusers_to_the_admin(as_agent, desk):
    from tessera.accounts.models import Agent, Membership

    ada = Agent.objects.create(user=desk.admin)
    Membership.objects.create(
        agent=ada, department=desk.support, role=desk.john.memberships.get().role, is_primary=True
    )
    html = as_agent(desk.admin).get("/staff/").content.decode()
    assert 'href="/admin/">Admin</a>' in html


def test_sign_out_is_a_post_that_returns_to_the_sign_in_page(as_agent, desk):
    client = as_agent(desk.john)
    assert client.get("/staff/logout/").status_code == 405
    response = client.post("/staff/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/login/"
    assert "You have signed out." in flashes(response)
    assert client.get("/staff/").status_code == 302


def test_signed_in_agent_visiting_sign_in_goes_straight_to_the_dashboard(as_agent, desk):
    response = as_agent(desk.john).get("/staff/login/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/"
