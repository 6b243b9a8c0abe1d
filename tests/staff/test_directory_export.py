"""Exporting the directory to CSV: streamed, for administrators only, and no cell a spreadsheet
would run as a formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest

from django.http import StreamingHttpResponse
from django.urls import reverse

from tessera.accounts.models import Agent, Organization, OrganizationDomain, User
from tessera.csv_cells import safe_cell


def rows(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode()  # type: ignore[arg-type]  # a sync view: an Iterator
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


@pytest.fixture
def admin_client(client, desk):
    Agent.objects.create(user=desk.admin)
    client.force_login(desk.admin)
    return client


HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Ann", "ann@example.net", "a=b", "", "1-2"])
def test_ordinary_cells_are_left_alone(value):
    assert safe_cell(value) == value


def test_people_export_defuses_formulas_in_every_column_and_leaves_agents_out(admin_client, desk):
    org = Organization.objects.create(name="=cmd|' /C calc'!A0")
    for n, value in enumerate(HOSTILE):
        User.objects.create_user(f"p{n}@example.net", name=value, organization=org, phone=value[:40])

    response = admin_client.get(reverse("staff:people_export"))
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="people-')
    table = rows(response)
    assert table[0] == ["email", "name", "organisation", "phone", "time zone", "active", "joined (UTC)"]
    by_email = {row[0]: row for row in table[1:]}
    assert "john@example.com" not in by_email and "admin@example.com" not in by_email
    assert by_email["ken@example.com"][1] == "Ken Adams"
    for n, value in enumerate(HOSTILE):
        name, organisation, phone = by_email[f"p{n}@example.net"][1:4]
        assert name == "'" + value and organisation == "'=cmd|' /C calc'!A0"
        assert phone == "'" + value[:40]


def test_organisations_export_lists_domains_manager_and_members(admin_client, desk):
    org = Organization.objects.create(name="@Acme", account_manager=desk.john, share_tickets=True)
    OrganizationDomain.objects.create(organization=org, domain="acme.example")
    OrganizationDomain.objects.create(organization=org, domain="acme.org")
    desk.ken.organization = org
    desk.ken.save()
    table = rows(admin_client.get(reverse("staff:organisations_export")))
    assert table[1][:5] == ["'@Acme", "acme.example acme.org", "john@example.com", "yes", "1"]


def test_agents_who_are_not_administrators_cannot_export(client, desk):
    client.force_login(desk.john.user)
    assert client.get(reverse("staff:people_export")).status_code == 403
    assert client.get(reverse("staff:organisations_export")).status_code == 403
    page = client.get(reverse("staff:people")).content.decode()
    assert reverse("staff:people_export") not in page


def test_the_audit_log_export_uses_the_same_defused_cells():
    from tessera.audit import csv_export

    assert csv_export.safe_cell is safe_cell
