"""The people directory in the workspace: finding people and organisations, their pages with
tickets (open first, only what the agent sees) and notes, editing with the right, and the
refusals (end users, other agents' notes, agents' own records, ids that do not exist)."""

from __future__ import annotations

import re

import pytest

from django.urls import reverse

from tessera.accounts.models import DirectoryNote, Organization, OrganizationDomain, User
from tessera.audit.models import AuditEntry
from tessera.staff import directory_selectors
from tessera.tickets import services

from .conftest import field_error


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def acme(desk):
    org = Organization.objects.create(name="Acme", share_tickets=True, account_manager=desk.john)
    OrganizationDomain.objects.create(organization=org, domain="acme.example")
    desk.ken.organization = org
    desk.ken.save()
    return org


def person_url(user) -> str:
    return reverse("staff:person", args=[user.pk])


def org_url(org) -> str:
    return reverse("staff:organisation", args=[org.pk])


# ---------------------------------------------------------------------------- lists


def test_people_are_found_by_name_address_or_organisation_and_agents_are_not_listed(as_agent, desk, acme):
    User.objects.create_user("nina@example.net", name="Nina North")
    client = as_agent(desk.john)

    by_name = text(client.get(reverse("staff:people"), {"q": "adams"}))
    assert "Ken Adams" in by_name and "Nina North" not in by_name
    assert "Nina North" in text(client.get(reverse("staff:people"), {"q": "EXAMPLE.NET"}))
    by_org = text(client.get(reverse("staff:people"), {"q": "acme"}))
    assert "Ken Adams" in by_org and "Nina" not in by_org
    everyone = client.get(reverse("staff:people")).content.decode()
    assert "ken@example.com" in everyone and "nina@example.net" in everyone
    # Desk staff are described in the admin, not listed here.
    assert "john@example.com" not in everyone and "admin@example.com" not in everyone
    assert "Nobody matches “zzz”." in text(client.get(reverse("staff:people"), {"q": "zzz"}))


def test_the_people_list_pages_by_address_without_repeating_anyone(as_agent, desk, monkeypatch):
    monkeypatch.setattr(directory_selectors, "PAGE_SIZE", 2)
    for n in range(3):
        User.objects.create_user(f"p{n}@example.net", name=f"Person {n}")
    client = as_agent(desk.john)
    seen: list[str] = []
    url = reverse("staff:people")
    for _ in range(5):
        html = client.get(url).content.decode()
        seen += re.findall(r"<td>([^<]+@[^<]+)</td>", html)
        more = re.search(r'href="([^"]+)">More people', html)
        if not more:
            break
        url = more.group(1).replace("&amp;", "&")
    assert seen == sorted(seen) == ["ken@example.com", "p0@example.net", "p1@example.net", "p2@example.net"]


def test_organisations_are_found_by_name_or_domain_with_their_people_counted(as_agent, desk, acme):
    Organization.objects.create(name="Globex")
    client = as_agent(desk.john)
    found = text(client.get(reverse("staff:organisations"), {"q": "acme.exa"}))
    assert "Acme" in found and "Globex" not in found and "Shares tickets" in found and "John Doe" in found
    assert "Globex" in text(client.get(reverse("staff:organisations")))


def test_end_users_cannot_open_the_directory(as_agent, desk, acme):
    client = as_agent(desk.ken)
    for url in (reverse("staff:people"), person_url(desk.ken), org_url(acme), reverse("staff:organisations")):
        assert client.get(url).status_code == 403


# ---------------------------------------------------------------------------- a person's page


def test_a_persons_page_shows_details_organisation_and_their_tickets_open_ones_first(as_agent, desk, acme):
    first = services.open_ticket(desk.ken, requester=desk.ken, subject="Old printer", message="x", topic=desk.general)
    services.set_status(desk.john.user, first, status=desk.closed)
    services.open_ticket(desk.ken, requester=desk.ken, subject="New scanner", message="y", topic=desk.general)
    services.open_ticket(desk.ken, requester=desk.ken, subject="Server down", message="z", topic=desk.outage)

    page = as_agent(desk.john).get(person_url(desk.ken))
    body = text(page)
    assert page.status_code == 200
    assert "ken@example.com" in body and "Acme" in body
    assert body.index("New scanner") < body.index("Old printer")  # open before closed
    assert "Server down" not in body  # a System Administration ticket John cannot see
    assert f'href="{org_url(acme)}"' in page.content.decode()
    assert f"?user={desk.ken.pk}" in page.content.decode()  # every ticket, in the queue


def test_an_agent_of_another_department_sees_the_person_but_none_of_their_tickets(as_agent, desk, ken_ticket):
    body = text(as_agent(desk.bill).get(person_url(desk.ken)))
    assert "Ken Adams" in body and "Printer jams" not in body and "No tickets you can see." in body


def test_a_person_who_does_not_exist_is_not_found(as_agent, desk):
    client = as_agent(desk.john)
    assert client.get(reverse("staff:person", args=[999999])).status_code == 404
    assert client.post(reverse("staff:person_note", args=[999999]), {"body": "x"}).status_code == 404
    assert client.get(reverse("staff:organisation", args=[999999])).status_code == 404


def test_an_agents_page_is_read_only(as_agent, desk):
    client = as_agent(desk.john)
    page = client.get(person_url(desk.jane.user))
    assert page.status_code == 200 and "changed in the admin" in text(page)
    assert "Edit details" not in text(page) and "Add note" not in text(page)
    assert client.get(reverse("staff:person_edit", args=[desk.jane.user.pk])).status_code == 403
    refused = client.post(reverse("staff:person_edit", args=[desk.jane.user.pk]), {"email": "evil@example.com"})
    assert refused.status_code == 403
    assert client.post(reverse("staff:person_note", args=[desk.jane.user.pk]), {"body": "x"}).status_code == 403
    desk.jane.user.refresh_from_db()
    assert desk.jane.user.email == "jane@example.com" and not DirectoryNote.objects.exists()


def test_an_agent_edits_a_persons_details_and_the_change_is_audited(as_agent, desk, acme):
    other = Organization.objects.create(name="Globex")
    client = as_agent(desk.john)
    response = client.post(
        reverse("staff:person_edit", args=[desk.ken.pk]),
        {"name": "Kenneth Adams", "email": "Ken@Globex.example", "organization": other.pk, "time_zone": "Europe/Paris"},
    )
    assert response.status_code == 302 and response.url == person_url(desk.ken)
    desk.ken.refresh_from_db()
    assert (desk.ken.name, desk.ken.email, desk.ken.organization, desk.ken.time_zone) == (
        "Kenneth Adams",
        "ken@globex.example",
        other,
        "Europe/Paris",
    )
    assert AuditEntry.objects.filter(object_type="accounts.user", object_id=str(desk.ken.pk), actor=desk.john.user)


def test_a_persons_phone_is_edited_shown_as_a_link_and_a_non_number_refused(as_agent, desk):
    client = as_agent(desk.john)
    url = reverse("staff:person_edit", args=[desk.ken.pk])
    ok = client.post(url, {"name": "Ken Adams", "email": "ken@example.com", "phone": "+1 318 555 8634 X123"})
    assert ok.status_code == 302
    page = client.get(person_url(desk.ken)).content.decode()
    assert '<a href="tel:+13185558634X123" id="person-phone">+1 318 555 8634 X123</a>' in page
    assert 'value="+1 318 555 8634 X123"' in client.get(url).content.decode()  # the edit form starts from it

    refused = client.post(url, {"name": "Ken Adams", "email": "ken@example.com", "phone": "call me maybe"})
    assert refused.status_code == 400
    assert field_error(refused.content.decode(), "id_phone").startswith("Enter a phone number")
    assert 'value="call me maybe"' in refused.content.decode()
    desk.ken.refresh_from_db()
    assert desk.ken.phone == "+1 318 555 8634 X123"


def test_a_taken_address_is_refused_at_the_field_and_what_was_typed_is_kept(as_agent, desk):
    User.objects.create_user("nina@example.net", name="Nina")
    response = as_agent(desk.john).post(
        reverse("staff:person_edit", args=[desk.ken.pk]), {"name": "Ken Typed", "email": "nina@example.net"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert field_error(html, "id_email") == "Someone already has this address."
    assert 'value="Ken Typed"' in html
    desk.ken.refresh_from_db()
    assert desk.ken.email == "ken@example.com"


# ---------------------------------------------------------------------------- notes


def test_notes_about_a_person_are_added_shown_escaped_and_deleted_by_their_author(as_agent, desk):
    client = as_agent(desk.john)
    added = client.post(
        reverse("staff:person_note", args=[desk.ken.pk]), {"body": "Prefers <script>x()</script> calls"}
    )
    assert added.status_code == 302
    page = client.get(person_url(desk.ken)).content.decode()
    assert "Prefers &lt;script&gt;x()&lt;/script&gt; calls" in page and "<script>x()" not in page
    note = DirectoryNote.objects.get()
    assert note.author == desk.john.user and note.user == desk.ken

    # Another agent may read it but not delete it; the author may.
    assert as_agent(desk.bill).post(reverse("staff:directory_note_delete", args=[note.pk])).status_code == 403
    assert DirectoryNote.objects.exists()
    as_agent(desk.john).post(reverse("staff:directory_note_delete", args=[note.pk]))
    assert not DirectoryNote.objects.exists()
    assert AuditEntry.objects.filter(detail="note deleted", actor=desk.john.user).exists()


def test_an_empty_note_is_refused_on_the_page(as_agent, desk):
    response = as_agent(desk.john).post(reverse("staff:person_note", args=[desk.ken.pk]), {"body": "   "})
    assert response.status_code == 400
    assert field_error(response.content.decode(), "id_body")
    assert not DirectoryNote.objects.exists()


# ---------------------------------------------------------------------------- organisations


def test_an_organisations_page_lists_members_tickets_manager_domains_and_notes(as_agent, desk, acme, ken_ticket):
    ken_ticket.refresh_from_db()
    client = as_agent(desk.john)
    client.post(reverse("staff:organisation_note", args=[acme.pk]), {"body": "Renewal in March."})
    body = text(client.get(org_url(acme)))
    assert "Ken Adams" in body and "Printer jams" in body
    assert "acme.example" in body and "John Doe" in body and "Shared among members" in body
    assert "Renewal in March." in body
    assert "Edit organisation" not in body  # organisations are the administrators'


def test_an_administrator_changes_an_organisations_domains_manager_and_sharing(as_agent, desk, acme):
    from tessera.accounts.models import Agent

    Agent.objects.create(user=desk.admin)
    client = as_agent(desk.admin)
    response = client.post(
        reverse("staff:organisation_edit", args=[acme.pk]),
        {"name": "Acme Ltd", "domains": "acme.example, ACME.org", "account_manager": desk.jane.pk},
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.name == "Acme Ltd" and acme.account_manager == desk.jane and not acme.share_tickets
    assert sorted(acme.domains.values_list("domain", flat=True)) == ["acme.example", "acme.org"]

    other = Organization.objects.create(name="Globex")
    refused = client.post(
        reverse("staff:organisation_edit", args=[other.pk]), {"name": "Globex", "domains": "acme.org"}
    )
    assert refused.status_code == 400
    assert "acme.org already belongs to Acme Ltd." in field_error(refused.content.decode(), "id_domains")

    created = client.post(reverse("staff:organisation_create"), {"name": "Initech", "domains": "initech.example"})
    assert created.status_code == 302
    assert Organization.objects.get(name="Initech").domains.get().domain == "initech.example"


def test_agents_cannot_change_organisations(as_agent, desk, acme):
    client = as_agent(desk.john)
    assert client.get(reverse("staff:organisation_edit", args=[acme.pk])).status_code == 403
    assert client.post(reverse("staff:organisation_edit", args=[acme.pk]), {"name": "Hijacked"}).status_code == 403
    assert client.post(reverse("staff:organisation_create"), {"name": "New"}).status_code == 403
    acme.refresh_from_db()
    assert acme.name == "Acme" and Organization.objects.count() == 1


# ---------------------------------------------------------------------------- links from tickets


def test_the_requester_on_the_ticket_page_and_in_the_queue_links_to_their_page(as_agent, desk, acme, ken_ticket):
    client = as_agent(desk.john)
    ticket_page = client.get(reverse("staff:ticket", args=[ken_ticket.number])).content.decode()
    assert f'href="{person_url(desk.ken)}"' in ticket_page
    queue = client.get(reverse("staff:queue", args=["open"])).content.decode()
    assert f'href="{person_url(desk.ken)}"' in queue


def test_the_shortcuts_list_names_the_directory_keys(as_agent, desk):
    body = text(as_agent(desk.john).get(reverse("staff:people")))
    assert "In the people directory" in body
    assert "Write a note about the person or organisation" in body
