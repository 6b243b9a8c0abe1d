"""Saved queues: an agent keeps a filter and sort as a queue of their own; an administrator
shares one with departments and teams."""

from __future__ import annotations

import re

import pytest

from django.core.exceptions import PermissionDenied, ValidationError

from tessera.accounts.models import Agent, Membership, Role
from tessera.staff import services as queue_services
from tessera.staff.models import SavedQueue
from tessera.tickets import services

from .conftest import flashes
from .test_filters import queries, subjects
from .test_queues import open_tickets


def saved_link(html: str, name: str) -> re.Match:
    link = r'<a href="/staff/queues/saved/(\d+)/"[^>]*>\s*'
    pattern = link + rf'<span>{re.escape(name)}</span> <span class="count">([^<]*)</span>'
    found = re.search(pattern, html)
    assert found, f"no saved queue {name!r} in the sidebar"
    return found


def section(html: str, heading: str) -> str:
    found = re.search(rf"<h2 class=\"queues-heading\" id=\"[^\"]+\">{heading}</h2>\s*<ul.*?</ul>", html, re.S)
    return found.group(0) if found else ""


@pytest.fixture
def admin_agent(desk):
    """The administrator, also working as an agent in Support so the workspace opens for them."""
    agent = Agent.objects.create(user=desk.admin)
    role = Role.objects.get(name="Agent")
    Membership.objects.create(agent=agent, department=desk.support, role=role, is_primary=True)
    return agent


@pytest.fixture
def urgent(desk):
    tickets = open_tickets(desk, 3, subject="Urgent")
    for t in tickets[:2]:
        services.set_priority(desk.john.user, t, priority=desk.sev_a)
    return tickets


def save(client, name: str, **params) -> object:
    return client.post("/staff/queues/saved/", {"name": name, **params})


# ---------------------------------------------------------------------------- through the page


def test_save_as_queue_keeps_the_filters_and_lists_it_under_my_queues_with_its_count(as_agent, desk, urgent):
    client = as_agent(desk.john)
    html = client.get(f"/staff/queues/open/?priority={desk.sev_a.pk}&sort=priority").content.decode()
    # The form carries what is in force now.
    form = re.search(r'<form method="post" action="/staff/queues/saved/".*?</form>', html, re.S).group(0)
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    assert hidden["priority"] == str(desk.sev_a.pk)
    assert hidden["sort"] == "priority"
    assert hidden["queue"] == "open"
    assert '<label for="save-queue-name">Queue name</label>' in form
    assert ">Save as queue</button>" in form

    response = save(client, "Emergencies", **{k: v for k, v in hidden.items() if k != "csrfmiddlewaretoken"})
    saved = SavedQueue.objects.get(owner=desk.john, name="Emergencies")
    assert response.status_code == 302
    assert response["Location"] == f"/staff/queues/saved/{saved.pk}/"
    assert saved.params["priority"] == [str(desk.sev_a.pk)]
    assert saved.params["sort"] == "priority"
    assert saved.params["queue"] == "open"

    html = client.get(response["Location"]).content.decode()
    assert "<h1>Emergencies</h1>" in html
    assert sorted(subjects(html)) == ["Urgent 0", "Urgent 1"]
    link = saved_link(section(html, "My queues"), "Emergencies")
    assert link.group(2) == "2"
    assert 'aria-current="page"' in link.group(0)
    assert "Saved “Emergencies”. It is listed under My queues." in html


def test_saved_queue_keeps_its_base_queue_rule(as_agent, desk, urgent):
    services.assign(desk.john.user, urgent[0], agent=desk.john)
    client = as_agent(desk.john)
    save(client, "My emergencies", queue="mine", priority=str(desk.sev_a.pk))
    saved = SavedQueue.objects.get(name="My emergencies")
    assert subjects(client.get(f"/staff/queues/saved/{saved.pk}/").content.decode()) == ["Urgent 0"]


def test_changing_filters_on_a_saved_queue_shows_them_without_changing_the_queue(as_agent, desk, urgent):
    client = as_agent(desk.john)
    save(client, "Emergencies", queue="open", priority=str(desk.sev_a.pk))
    saved = SavedQueue.objects.get(name="Emergencies")
    url = f"/staff/queues/saved/{saved.pk}/"
    html = client.get(url).content.decode()
    chip = re.search(r'<a class="chip" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    # Removing the only filter must not bring the saved one back.
    assert chip.startswith(f"{url}?sort=")
    assert sorted(subjects(client.get(chip).content.decode())) == ["Urgent 0", "Urgent 1", "Urgent 2"]
    saved.refresh_from_db()
    assert saved.params["priority"] == [str(desk.sev_a.pk)]
    # "Save filters to this queue" keeps what is shown.
    response = client.post(f"{url}update/", {"queue": "open", "sort": "-created", "cols": "user"})
    assert response.status_code == 302
    saved.refresh_from_db()
    assert "priority" not in saved.params
    assert saved.params["sort"] == "-created"


def test_rename_and_delete_a_saved_queue(as_agent, desk):
    client = as_agent(desk.john)
    save(client, "Mine")
    saved = SavedQueue.objects.get(name="Mine")
    response = client.post(f"/staff/queues/saved/{saved.pk}/rename/", {"name": "  Morning   list "})
    assert "Queue renamed to “Morning list”." in flashes(response)
    saved.refresh_from_db()
    assert saved.name == "Morning list"
    html = client.get(f"/staff/queues/saved/{saved.pk}/").content.decode()
    assert ">Rename queue</button>" in html
    assert ">Delete queue</button>" in html
    response = client.post(f"/staff/queues/saved/{saved.pk}/delete/")
    assert response["Location"] == "/staff/"
    assert not SavedQueue.objects.filter(pk=saved.pk).exists()
    assert client.get(f"/staff/queues/saved/{saved.pk}/").status_code == 404


def test_a_name_is_required_and_unique_per_agent(as_agent, desk):
    client = as_agent(desk.john)
    response = save(client, "   ", next="/staff/queues/open/")
    assert response["Location"] == "/staff/queues/open/"
    assert "Give the queue a name." in flashes(response)
    save(client, "Billing")
    response = save(client, "billing")
    assert "You already have a queue called “billing”." in flashes(response)
    assert SavedQueue.objects.count() == 1


def test_other_agents_cannot_see_or_change_a_personal_queue(as_agent, desk, client):
    john = as_agent(desk.john)
    save(john, "Private")
    saved = SavedQueue.objects.get(name="Private")
    jane = as_agent(desk.jane)
    assert jane.get(f"/staff/queues/saved/{saved.pk}/").status_code == 404
    assert jane.post(f"/staff/queues/saved/{saved.pk}/rename/", {"name": "Mine now"}).status_code == 404
    assert jane.post(f"/staff/queues/saved/{saved.pk}/delete/").status_code == 404
    assert "Private" not in jane.get("/staff/queues/open/").content.decode()


def test_administrator_shares_a_queue_with_a_department_and_a_team(as_agent, desk, admin_agent, urgent):
    admin = as_agent(desk.admin)
    save(admin, "Sev-A everywhere", queue="all", priority=str(desk.sev_a.pk))
    saved = SavedQueue.objects.get(name="Sev-A everywhere")
    html = admin.get(f"/staff/queues/saved/{saved.pk}/").content.decode()
    assert '<label for="share-departments">Share with departments</label>' in html
    assert '<label for="share-teams">Share with teams</label>' in html
    response = admin.post(
        f"/staff/queues/saved/{saved.pk}/share/", {"departments": [desk.support.pk], "teams": [desk.ops.pk]}
    )
    assert "“Sev-A everywhere” is now shared with Support, Infrastructure on-call." in flashes(response)

    # John (Support) sees it under Shared queues with his own count; Jane through her team.
    john_html = as_agent(desk.john).get("/staff/queues/open/").content.decode()
    assert saved_link(section(john_html, "Shared queues"), "Sev-A everywhere").group(2) == "2"
    assert section(john_html, "My queues") == ""
    shared_page = as_agent(desk.john).get(f"/staff/queues/saved/{saved.pk}/").content.decode()
    assert "Shared by Ada Admin" in shared_page
    assert "Manage this queue" not in shared_page  # not his to change
    jane_html = as_agent(desk.jane).get("/staff/queues/open/").content.decode()
    assert saved_link(section(jane_html, "Shared queues"), "Sev-A everywhere").group(2) == "0"
    # Bill (Billing, no team) does not.
    assert "Sev-A everywhere" not in as_agent(desk.bill).get("/staff/queues/open/").content.decode()


def test_agents_cannot_share_queues(as_agent, desk):
    client = as_agent(desk.john)
    save(client, "Mine")
    saved = SavedQueue.objects.get(name="Mine")
    assert "Share with departments" not in client.get(f"/staff/queues/saved/{saved.pk}/").content.decode()
    response = client.post(f"/staff/queues/saved/{saved.pk}/share/", {"departments": [desk.billing.pk]})
    assert "Only administrators can share queues." in flashes(response)
    assert not saved.shared_with_departments.exists()


# ---------------------------------------------------------------------------- services


def test_services_check_who_may_change_a_saved_queue(desk, admin_agent):
    saved = queue_services.create_saved_queue(desk.john.user, name="Mine", params={"priority": ["1"], "evil": "x"})
    assert saved.params == {"priority": ["1"], "queue": "all"}
    with pytest.raises(PermissionDenied):
        queue_services.update_saved_queue(desk.jane.user, saved, name="Jane's")
    with pytest.raises(PermissionDenied):
        queue_services.delete_saved_queue(desk.jane.user, saved)
    with pytest.raises(PermissionDenied):
        queue_services.share_saved_queue(desk.john.user, saved, departments=[desk.support], teams=[])
    # A superuser may edit and share anyone's queue.
    renamed = queue_services.update_saved_queue(desk.admin, saved, name="Renamed by admin")
    assert renamed.name == "Renamed by admin"
    queue_services.share_saved_queue(desk.admin, saved, departments=[desk.billing], teams=[desk.ops])
    assert list(saved.shared_with_departments.all()) == [desk.billing]
    queue_services.share_saved_queue(desk.admin, saved, departments=[], teams=[])
    assert not saved.shared_with_teams.exists()
    queue_services.delete_saved_queue(desk.admin, saved)
    assert not SavedQueue.objects.exists()


def test_only_agents_save_queues(desk):
    with pytest.raises(PermissionDenied):
        queue_services.create_saved_queue(desk.ken, name="Mine", params={})
    with pytest.raises(ValidationError):
        queue_services.create_saved_queue(desk.john.user, name="x" * 81, params={})


def test_new_saved_queues_are_listed_last(desk):
    first = queue_services.create_saved_queue(desk.john.user, name="Zeta", params={})
    second = queue_services.create_saved_queue(desk.john.user, name="Alpha", params={})
    assert (first.position, second.position) == (0, 1)


# ---------------------------------------------------------------------------- query counts


def test_saved_queue_page_costs_the_same_queries_with_3_or_30_tickets(as_agent, desk, admin_agent):
    client = as_agent(desk.john)
    save(client, "Emergencies", queue="open", priority=str(desk.sev_a.pk), sort="-priority")
    saved = SavedQueue.objects.get(name="Emergencies")
    other = queue_services.create_saved_queue(desk.admin, name="Shared one", params={"state": ["open"]})
    queue_services.share_saved_queue(desk.admin, other, departments=[desk.support], teams=[])
    urls = [f"/staff/queues/saved/{saved.pk}/", f"/staff/queues/saved/{other.pk}/", "/staff/queues/counts/"]

    def fill(n: int) -> None:
        for i, t in enumerate(open_tickets(desk, n, subject="Load")):
            if i % 2 == 0:
                services.set_priority(desk.john.user, t, priority=desk.sev_a)
                services.assign(desk.john.user, t, agent=desk.jane, team=desk.ops)

    fill(3)
    with_3 = [queries(client, url) for url in urls]
    fill(27)
    with_30 = [queries(client, url) for url in urls]
    assert with_3 == with_30
