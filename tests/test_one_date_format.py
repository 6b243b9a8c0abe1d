"""One form of a time everywhere a person reads one: relative ("today 16:05", "3 Dec 2025"), with
the exact time and zone on hover, in the viewer's own zone, minutes never dropped. The portal,
the account pages and the audit log use the workspace's helper (fast_html.time_element, the
`{% when %}` tag); emails, which cannot hover, write the exact time with its zone in the
recipient's zone. A scan of templates/ keeps other date formats from coming back."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tessera.audit import services as audit
from tessera.audit.models import UserSession
from tessera.tickets import services
from tessera.tickets.models import ALERT_DEFAULTS, AlertSetting, ThreadEntry, Ticket

from .portal.helpers import access_path

# An o'clock time: a format that drops zero minutes ("4 p.m.") shows here.
AT_SEVEN_UTC = datetime(2024, 1, 15, 7, 0, tzinfo=UTC)
IN_TOKYO = '<time datetime="2024-01-15T16:00:00+09:00" title="Monday 15 January 2024, 16:00 JST">15 Jan 2024</time>'
IN_UTC = '<time datetime="2024-01-15T07:00:00+00:00" title="Monday 15 January 2024, 07:00 UTC">15 Jan 2024</time>'


@pytest.fixture
def old_ticket(desk, ken_ticket):
    """Ken's ticket and its first message, as if written at 07:00 UTC on 15 January 2024."""
    services.reply(desk.john.user, ken_ticket, message="Try the rear tray.")
    Ticket.objects.filter(pk=ken_ticket.pk).update(created_at=AT_SEVEN_UTC, updated_at=AT_SEVEN_UTC)
    ThreadEntry.objects.filter(ticket_id=ken_ticket.pk).update(created_at=AT_SEVEN_UTC)
    return ken_ticket


@pytest.fixture
def ken_in_tokyo(desk):
    desk.ken.time_zone = "Asia/Tokyo"
    desk.ken.save()
    return desk.ken


def times_in(html: str) -> list[str]:
    return re.findall(r"<time [^>]*>[^<]*</time>", html)


# ---------------------------------------------------------------------------- the portal


def test_the_portal_ticket_page_shows_every_time_in_the_signed_in_customers_zone(client, old_ticket, ken_in_tokyo):
    client.force_login(ken_in_tokyo)
    html = client.get(reverse("portal:ticket", args=[old_ticket.number])).content.decode()

    # Opened, last update, and each of the two messages.
    assert times_in(html) == [IN_TOKYO] * 4


def test_my_tickets_shows_the_last_update_in_the_customers_zone(client, old_ticket, ken_in_tokyo):
    client.force_login(ken_in_tokyo)
    html = client.get(reverse("portal:my_tickets")).content.decode()
    assert times_in(html) == [IN_TOKYO]


def test_an_access_link_shows_times_in_its_owners_zone_without_signing_in(client, old_ticket, ken_in_tokyo):
    html = client.get(access_path(old_ticket, ken_in_tokyo)).content.decode()
    assert times_in(html) == [IN_TOKYO] * 4


def test_a_signed_in_visitor_on_someone_elses_link_reads_times_in_their_own_zone(client, desk, old_ticket):
    desk.ken.time_zone = "Asia/Tokyo"
    desk.ken.save()
    client.force_login(desk.admin)  # no zone of his own: the desk's (UTC)
    html = client.get(access_path(old_ticket, desk.ken)).content.decode()
    assert times_in(html) == [IN_UTC] * 4


# ---------------------------------------------------------------------------- account pages


def test_the_profiles_session_list_shows_when_each_session_began_in_the_agents_zone(desk, client):
    desk.john.user.time_zone = "America/New_York"
    desk.john.user.save()
    assert client.post("/staff/login/", {"username": "john@example.com", "password": desk.password}).status_code == 302

    html = client.get(reverse("staff:profile")).content.decode()

    session = UserSession.objects.get(user=desk.john.user)
    local = session.created_at.astimezone(ZoneInfo("America/New_York"))
    exact = f"{local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname()}"
    assert f'<time datetime="{local.isoformat()}" title="{exact}">' in html
    assert len(times_in(html)) == 2  # signed in, last active


def test_the_audit_log_lists_each_entry_with_the_one_time_form(desk, client):
    desk.admin.time_zone = "Asia/Tokyo"
    desk.admin.save()
    client.force_login(desk.admin)
    entry = audit.record(audit.Action.CHANGE, actor=desk.admin, obj=desk.support, detail="renamed")
    with connection.cursor() as cursor:  # backdated through SQL: the application cannot change entries
        cursor.execute("UPDATE audit_auditentry SET created_at = %s WHERE id = %s", [AT_SEVEN_UTC, entry.pk])

    html = client.get(reverse("admin:audit_auditentry_changelist")).content.decode()
    assert IN_TOKYO in html


# ---------------------------------------------------------------------------- emails


@pytest.fixture
def _alert_settings(db):
    for event, groups in ALERT_DEFAULTS.items():
        AlertSetting.objects.get_or_create(event=event, defaults=groups)


@pytest.mark.usefixtures("_alert_settings")
def test_an_alert_gives_the_due_time_with_minutes_in_the_recipients_zone(
    desk, ken_ticket, smtp, django_capture_on_commit_callbacks
):
    desk.jane.user.time_zone = "Europe/Berlin"
    desk.jane.user.save()
    Ticket.objects.filter(pk=ken_ticket.pk).update(due_at=AT_SEVEN_UTC)
    ken_ticket.refresh_from_db()
    smtp.envelopes.clear()

    # John's request runs in his zone; Jane's mail must not inherit it.
    with timezone.override(ZoneInfo("Asia/Tokyo")), django_capture_on_commit_callbacks(execute=True):
        services.assign(desk.john.user, ken_ticket, agent=desk.jane)

    [mail] = smtp.to("jane@example.com")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Due: Monday 15 January 2024, 08:00 CET" in text
    assert "Monday 15 January 2024, 08:00 CET" in html


# ---------------------------------------------------------------------------- no other formats


TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
# Ways a template could print a time other than through the one helper.
STRAY = re.compile(
    r"\|\s*(?:date|time|naturaltime|naturalday|timesince|timeuntil)\b[^}%]*"
    r"|\{%\s*now\b[^%]*"
    r"|\{\{\s*[\w.]+_(?:at|seen|joined|login)\s*\}\}"  # a raw datetime, printed with str()
)
# Allowed, file by file: emails write the exact time (with minutes) and the zone, as the tooltip
# does; a date filter's <input type="date"> needs the ISO form.
ALLOWED = {
    "emails/": {"|date:exact ", '|date:"T" ', '|date:exact z=ticket.due_at|date:"T" '},
    "staff/_filters.html": {"|date:'Y-m-d' "},
}


def stray_formats(path: str, source: str) -> list[str]:
    allowed = set().union(*(forms for prefix, forms in ALLOWED.items() if path.startswith(prefix)))
    return [f"{path}: {m.group(0).strip()}" for m in STRAY.finditer(source) if m.group(0) not in allowed]


def test_no_template_formats_a_time_another_way():
    found = []
    for file in sorted(TEMPLATES.rglob("*")):
        if file.suffix in (".html", ".txt"):
            found += stray_formats(file.relative_to(TEMPLATES).as_posix(), file.read_text())
    assert found == []


@pytest.mark.parametrize(
    "path, snippet",
    [
        ("portal/ticket.html", '{{ ticket.created_at|date:"DATETIME_FORMAT" }}'),
        ("accounts/x.html", "{{ device.created_at|naturaltime }}"),
        ("mail/original.html", "<time>{{ message.received_at }}</time>"),
        ("emails/closed.txt", '{{ ticket.closed_at|date:"DATETIME_FORMAT" }}'),
        ("audit/_sessions.html", "{{ s.last_seen|timesince }}"),
    ],
)
def test_the_scan_catches_other_formats(path, snippet):
    assert stray_formats(path, snippet) != []
