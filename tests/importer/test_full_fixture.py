"""The real osTicket 1.18.1 database (11,450 tickets) imported once for this module, then
compared row by row with the source: what came over must equal what was there."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from pathlib import Path

import pytest

from django.urls import reverse

from tessera.importer.models import IdMap
from tessera.importer.report import IMPORTED, NOT_IMPORTED, UNCHANGED, UPDATED
from tessera.importer.service import run_import
from tessera.tickets.models import Attachment, Event, ThreadEntry, Ticket

from .helpers import connect, leaves_no_trace, url

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("full_import")]  # one import


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("import-media")


@pytest.fixture(scope="module")
def first_run(osticket_db, django_db_setup, django_db_blocker, media, tmp_path_factory):
    """One real import of the whole dump, committed, and removed after the module."""
    from django.test import override_settings

    data = tmp_path_factory.mktemp("import-data")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, DATA_DIR=data), leaves_no_trace():
        report, path = run_import(url(osticket_db))
        yield report, path


def source_rows(database: str, sql: str, params=None):
    conn = connect(database)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
    finally:
        conn.close()


def test_the_report_accounts_for_every_row_of_every_table(first_run, osticket_db):
    report, path = first_run
    assert report.problems() == []
    for table in ("ticket", "thread_entry", "thread_event", "user", "user_email", "staff", "department"):
        (count,) = source_rows(osticket_db, f"SELECT COUNT(*) FROM ost_{table}")[0]  # noqa: S608  names are ours
        assert report.tables[table].source_rows == count
        assert report.tables[table].accounted == count
    # The file in the data folder says the same, with every row not imported named.
    text = path.read_text()
    assert "Every source row is accounted for." in text
    assert path.with_suffix(".json").is_file()


def test_every_ticket_entry_and_event_came_over(first_run, osticket_db):
    report, _path = first_run
    assert report.tables["ticket"].counts[IMPORTED] == 11450
    assert (
        Ticket.objects.filter(pk__in=IdMap.objects.filter(source_table="ticket").values("target_id")).count() == 11450
    )
    assert report.tables["thread_entry"].counts[IMPORTED] == 11457
    assert ThreadEntry.objects.count() == 11457
    (events,) = source_rows(osticket_db, "SELECT COUNT(*) FROM ost_thread_event WHERE annulled = 0")[0]
    assert Event.objects.count() == events == report.tables["thread_event"].counts[IMPORTED]


def test_a_sample_of_tickets_matches_the_source_field_by_field(first_run, osticket_db):
    rows = source_rows(
        osticket_db,
        "SELECT t.ticket_id, t.number, t.created, s.name, d.name, ue.address, "
        "(SELECT v.value FROM ost_form_entry e JOIN ost_form_entry_values v ON v.entry_id = e.id "
        " WHERE e.object_type = 'T' AND e.object_id = t.ticket_id AND v.field_id = 20) AS subject, "
        "(SELECT v.value_id FROM ost_form_entry e JOIN ost_form_entry_values v ON v.entry_id = e.id "
        " WHERE e.object_type = 'T' AND e.object_id = t.ticket_id AND v.field_id = 22) AS priority, t.source "
        "FROM ost_ticket t JOIN ost_ticket_status s ON s.id = t.status_id JOIN ost_department d ON d.id = t.dept_id "
        "JOIN ost_user u ON u.id = t.user_id JOIN ost_user_email ue ON ue.id = u.default_email_id "
        "WHERE MOD(t.ticket_id, 997) = 1 OR t.ticket_id IN (19, 20, 11449, 11450) ORDER BY t.ticket_id",
    )
    assert len(rows) >= 12
    ids = dict(IdMap.objects.filter(source_table="ticket").values_list("source_id", "target_id"))
    priorities = dict(IdMap.objects.filter(source_table="ticket_priority").values_list("source_id", "target_id"))
    for ticket_id, number, created, status, dept, email, subject, priority, source in rows:
        ticket = Ticket.objects.select_related("status", "department", "user").get(pk=ids[ticket_id])
        assert ticket.subject == subject
        assert ticket.status.name == status
        assert ticket.department.name == dept
        assert ticket.user.email == email.lower()
        assert ticket.created_at.replace(tzinfo=None) == created  # the source is in UTC
        assert ticket.priority_id == priorities[priority or 2]
        assert ticket.source == source.lower()
        if not Ticket.objects.filter(number=int(number)).exclude(pk=ticket.pk).exists():
            assert ticket.number == int(number)


def test_threads_keep_their_order_authors_and_kinds(first_run, osticket_db):
    (thread_id, ticket_id) = source_rows(
        osticket_db,
        "SELECT thread_id, th.object_id FROM ost_thread_entry e JOIN ost_thread th ON th.id = e.thread_id "
        "GROUP BY thread_id ORDER BY COUNT(*) DESC, thread_id LIMIT 1",
    )[0]
    source = source_rows(
        osticket_db,
        "SELECT type, poster, body FROM ost_thread_entry WHERE thread_id = %s ORDER BY created, id",
        [thread_id],
    )
    assert len(source) > 1
    ticket = IdMap.objects.get(source_table="ticket", source_id=ticket_id).target_id
    entries = list(ThreadEntry.objects.filter(ticket_id=ticket).order_by("created_at", "id"))
    assert [(e.kind[0].upper(), e.author_name) for e in entries] == [(t, p) for t, p, _b in source]


def test_attachments_have_the_sources_bytes(first_run, osticket_db, settings, media):
    settings.MEDIA_ROOT = media
    files = source_rows(
        osticket_db,
        "SELECT a.object_id, f.name, f.size, (SELECT GROUP_CONCAT(HEX(c.filedata) ORDER BY c.chunk_id SEPARATOR '') "
        "FROM ost_file_chunk c WHERE c.file_id = f.id) FROM ost_attachment a JOIN ost_file f ON f.id = a.file_id "
        "WHERE a.type = 'H' ORDER BY a.id",
    )
    assert len(files) == 14
    entries = dict(IdMap.objects.filter(source_table="thread_entry").values_list("source_id", "target_id"))
    for entry_id, name, _size, data in files:
        content = bytes.fromhex(data or "")
        attachment = Attachment.objects.get(
            entry_id=entries[entry_id], name=name, sha256=hashlib.sha256(content).hexdigest()
        )
        with attachment.file.open("rb") as stored:
            assert hashlib.sha256(stored.read()).hexdigest() == attachment.sha256
        assert attachment.size == len(content)


def test_ostadmin_signs_in_with_the_osticket_password_and_it_becomes_argon2(first_run, client, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "tessera.accounts.hashers.OsTicketBcryptPasswordHasher",
    ]
    from tessera.accounts.models import User

    user = User.objects.get(email="labadmin@example.org")
    assert user.password.startswith("osticket_bcrypt$$2a$")
    wrong = client.post(reverse("staff:login"), {"username": "labadmin@example.org", "password": "nope"})
    assert "_auth_user_id" not in client.session and wrong.status_code == 200
    response = client.post(reverse("staff:login"), {"username": "labadmin@example.org", "password": "Adm1nPass!2024"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert client.get(response["Location"], follow=True).status_code == 200


def test_a_reply_to_an_old_osticket_mail_threads_onto_the_imported_ticket(
    first_run, osticket_db, django_capture_on_commit_callbacks
):
    from tessera.mail import ingest

    (ticket_id,) = source_rows(
        osticket_db,
        "SELECT th.object_id FROM ost_thread_entry_email m JOIN ost_thread_entry e ON e.id = m.thread_entry_id "
        "JOIN ost_thread th ON th.id = e.thread_id WHERE m.mid = '<lab-orig-0001@client.example.net>'",
    )[0]
    ticket = Ticket.objects.get(pk=IdMap.objects.get(source_table="ticket", source_id=ticket_id).target_id)
    before = ticket.entries.count()
    mail = EmailMessage()
    mail["From"] = "Mail User <mail.user@example.net>"
    mail["To"] = "support@example.com"
    mail["Subject"] = "Re: Printer on fire"  # no ticket number: only the header can thread it
    mail["Message-ID"] = "<reply-today-1@client.example.net>"
    mail["In-Reply-To"] = "<lab-orig-0001@client.example.net>"
    mail["References"] = "<lab-orig-0001@client.example.net>"
    mail.set_content("Still on fire, years later.")
    with django_capture_on_commit_callbacks(execute=True):
        row = ingest.ingest(mail.as_bytes(), channel="pipe")
    assert row.ticket_id == ticket.pk
    assert ticket.entries.count() == before + 1


def test_a_second_run_changes_nothing(first_run, osticket_db, django_db_blocker, media, tmp_path):
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=media, DATA_DIR=tmp_path):
        report, _path = run_import(url(osticket_db))
    for table in report.tables.values():
        assert table.counts[IMPORTED] == 0, table.table
        assert table.counts[UPDATED] == 0, table.table
    assert report.tables["ticket"].counts[UNCHANGED] == 11450
    assert report.tables["thread_entry"].counts[UNCHANGED] == 11457
    assert report.tables["ticket__cdata"].counts[NOT_IMPORTED] == 11450
    assert report.problems() == []


def test_new_tickets_continue_after_the_highest_imported_number(first_run, osticket_db):
    from tessera.tickets.services import next_counter_value

    (highest,) = source_rows(osticket_db, "SELECT MAX(CAST(number AS UNSIGNED)) FROM ost_ticket")[0]
    assert next_counter_value("ticket", 100001) > highest


def test_imported_tickets_are_found_by_search(first_run, osticket_db):
    from tessera.search.models import TicketDocument

    assert TicketDocument.objects.count() >= 11450


def test_canned_responses_keep_their_files(first_run, osticket_db, settings, media):
    from tessera.canned.models import CannedResponse

    settings.MEDIA_ROOT = media
    ((title, name, data),) = source_rows(
        osticket_db,
        "SELECT c.title, f.name, (SELECT HEX(filedata) FROM ost_file_chunk k WHERE k.file_id = f.id) "
        "FROM ost_attachment a JOIN ost_canned_response c ON c.canned_id = a.object_id "
        "JOIN ost_file f ON f.id = a.file_id WHERE a.type = 'C'",
    )
    canned = CannedResponse.objects.get(title=title)
    (attachment,) = canned.attachments.all()
    assert attachment.name == name
    with attachment.file.open("rb") as stored:
        assert stored.read() == bytes.fromhex(data)
