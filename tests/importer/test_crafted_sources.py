"""What the lab dump lacks, written into small osTicket databases the way osTicket writes it:
broken rows, a source in another time zone, users with several addresses and portal accounts,
organisations with domains and sharing, merged and linked tickets, a file kept on disk."""

from __future__ import annotations

import datetime as dt
import hashlib

import bcrypt
import pytest

from django.db.models import Count

from tessera.accounts.models import DirectoryNote, Organization, User
from tessera.importer.models import IdMap
from tessera.importer.report import IMPORTED, NOT_IMPORTED, UNCHANGED
from tessera.importer.source import Source, SourceError
from tessera.tickets.models import Attachment, Event, State, ThreadEntry, Ticket, TicketLink

pytestmark = pytest.mark.django_db


def ticket_of(source_id: int) -> Ticket:
    return Ticket.objects.get(pk=IdMap.objects.get(source_table="ticket", source_id=source_id).target_id)


def test_broken_rows_are_reported_and_imported_with_placeholders(crafted, run):
    ann = crafted.user("Ann", "ann@example.net")
    unknown_status = crafted.ticket("500001", "Unknown status", user_id=ann, status_id=99)
    no_user = crafted.ticket("500002", "Nobody wrote this", user_id=4242)
    # A table left in latin1 by an old installation: its bytes are not UTF-8.
    crafted.sql("ALTER TABLE ost_thread_entry MODIFY body MEDIUMTEXT CHARACTER SET latin1")
    bad_body = crafted.ticket("500003", "Bad bytes", user_id=ann, body="café ÿ broken")
    lost_file = crafted.ticket("500004", "Lost file", user_id=ann)
    entry = crafted.rows("SELECT MAX(id) FROM ost_thread_entry")[0][0]
    file_id = crafted.sql(
        "INSERT INTO ost_file (ft, bk, type, size, `key`, signature, name, created) "
        "VALUES ('T', 'D', 'text/plain', 10, 'lostkey', 'sig', 'lost.txt', NOW())"
    )
    crafted.sql(
        "INSERT INTO ost_attachment (object_id, type, file_id, inline) VALUES (%s, 'H', %s, 0)", [entry, file_id]
    )
    thread = crafted.rows("SELECT id FROM ost_thread WHERE object_id = %s", [lost_file])[0][0]
    crafted.sql(
        "INSERT INTO ost_thread_event (thread_id, thread_type, event_id, staff_id, team_id, dept_id, topic_id, "
        "username, uid, uid_type, annulled, timestamp) VALUES (%s, 'T', 10, 1, 0, 1, 0, 'ostadmin', 1, 'S', 0, NOW()), "
        "(%s, 'T', 4, 1, 0, 1, 0, 'ostadmin', 1, 'S', 1, NOW())",
        [thread, thread],
    )

    report = run(crafted)

    assert report.tables["ticket"].counts[IMPORTED] == 4
    assert ticket_of(unknown_status).state == State.OPEN
    assert ticket_of(no_user).user.email == "osticket-missing-user@import.invalid"
    body = ticket_of(bad_body).entries.get().body_text
    assert body.startswith("caf") and "broken" in body and "\ufffd" in body
    placeholder = Attachment.objects.get(entry__ticket=ticket_of(lost_file))
    assert placeholder.name == "lost.txt.missing.txt"
    notes = "\n".join(
        report.tables["ticket"].notes + report.tables["thread_entry"].notes + report.tables["attachment"].notes
    )
    assert f"ticket#{unknown_status}: status 99 unknown" in notes
    assert f"ticket#{no_user}: user 4242 missing" in notes
    assert "not valid UTF-8" in notes
    assert "lost.txt was not found" in notes
    # Viewed (no timeline equivalent) and an annulled assignment: counted, with their reasons.
    events = report.tables["thread_event"]
    assert events.counts[NOT_IMPORTED] == 2
    assert set(events.reasons) == {"osTicket's viewed event has no timeline equivalent", "annulled in osTicket"}


def test_dates_are_converted_from_the_source_time_zone_to_utc(crafted, run):
    crafted.sql("INSERT INTO ost_config (namespace, `key`, value) VALUES ('core', 'db_timezone', 'Europe/Berlin')")
    ann = crafted.user("Ann", "ann@example.net")
    summer = crafted.ticket("500010", "Summer", user_id=ann, created="2024-07-01 12:00:00")
    winter = crafted.ticket("500011", "Winter", user_id=ann, created="2024-01-15 12:00:00")
    run(crafted)
    assert ticket_of(summer).created_at == dt.datetime(2024, 7, 1, 10, 0, tzinfo=dt.UTC)
    assert ticket_of(winter).created_at == dt.datetime(2024, 1, 15, 11, 0, tzinfo=dt.UTC)
    assert ticket_of(winter).entries.get().created_at == dt.datetime(2024, 1, 15, 11, 0, tzinfo=dt.UTC)


def test_a_dry_run_reports_everything_and_writes_nothing(crafted, run, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ann = crafted.user("Ann", "ann@example.net")
    crafted.ticket("500020", "Dry", user_id=ann)
    before = (Ticket.objects.count(), User.objects.count(), IdMap.objects.count(), Event.objects.count())
    report = run(crafted, dry_run=True)
    assert report.tables["ticket"].counts[IMPORTED] == 1
    assert report.tables["user"].counts[IMPORTED] == 1
    assert (Ticket.objects.count(), User.objects.count(), IdMap.objects.count(), Event.objects.count()) == before
    assert not (tmp_path / "media").exists()
    assert list((tmp_path / "data" / "imports").glob("*.txt"))  # the report is still written


def test_users_keep_every_address_their_phone_notes_and_portal_password(crafted, run, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "tessera.accounts.hashers.OsTicketBcryptPasswordHasher",
    ]
    user = crafted.user("Bea Berg", "bea@example.net", "bea.berg@home.example", "b@old.example")
    entry = crafted.sql(
        "INSERT INTO ost_form_entry (form_id, object_id, object_type, sort, created, updated) "
        "VALUES (1, %s, 'U', 1, NOW(), NOW())",
        [user],
    )
    crafted.sql(
        "INSERT INTO ost_form_entry_values (entry_id, field_id, value) VALUES (%s, 3, '+44 20 7946 0000'), "
        "(%s, 4, 'Prefers phone calls.')",
        [entry, entry],
    )
    hashed = bcrypt.hashpw(b"Portal-Pass-1", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$", 1)
    crafted.sql(
        "INSERT INTO ost_user_account (user_id, status, timezone, lang, username, passwd, backend, registered) "
        "VALUES (%s, 1, 'Europe/London', 'de_DE', NULL, %s, NULL, NOW())",
        [user, hashed],
    )
    report = run(crafted)
    bea = User.objects.get(email="bea@example.net")
    assert bea.name == "Bea Berg"
    assert bea.phone == "+44 20 7946 0000"
    assert (bea.time_zone, bea.language) == ("Europe/London", "de")
    note = DirectoryNote.objects.get(user=bea).body
    assert "Prefers phone calls." in note
    assert "bea.berg@home.example" in note and "b@old.example" in note
    assert bea.check_password("Portal-Pass-1")
    assert not bea.check_password("portal-pass-1")
    assert report.tables["user_email"].counts[IMPORTED] == 3
    assert report.tables["user_account"].counts[IMPORTED] == 1


def test_organisations_keep_domains_manager_and_sharing(crafted, run):
    crafted.sql(
        "INSERT INTO ost_organization (name, manager, status, domain, created) "
        "VALUES ('Acme', 's1', 16, 'acme.example, acme.test,not a domain', NOW()), ('Solo', 't1', 0, '', NOW())"
    )
    report = run(crafted)
    acme = Organization.objects.get(name="Acme")
    assert acme.share_tickets
    assert sorted(acme.domains.values_list("domain", flat=True)) == ["acme.example", "acme.test"]
    assert acme.account_manager is not None and acme.account_manager.user.email == "labadmin@example.org"
    solo = Organization.objects.get(name="Solo")
    assert not solo.share_tickets and solo.account_manager is None
    notes = "\n".join(report.tables["organization"].notes)
    assert "not a domain" in notes and "account manager is a team" in notes


def test_merged_and_linked_tickets_keep_their_relation(crafted, run):
    ann = crafted.user("Ann", "ann@example.net")
    parent = crafted.ticket("500030", "Parent", user_id=ann)
    merged = crafted.ticket("500031", "Merged child", user_id=ann)
    linked = crafted.ticket("500032", "Linked", user_id=ann)
    crafted.sql("UPDATE ost_ticket SET ticket_pid = %s, flags = 1 WHERE ticket_id = %s", [parent, merged])
    crafted.sql("UPDATE ost_ticket SET ticket_pid = %s, flags = 8 WHERE ticket_id = %s", [parent, linked])
    run(crafted)
    assert ticket_of(merged).merged_into == ticket_of(parent)
    assert ticket_of(linked).merged_into is None
    low, high = sorted((ticket_of(linked).pk, ticket_of(parent).pk))
    assert TicketLink.objects.filter(ticket_id=low, other_id=high).exists()


def test_a_file_kept_on_disk_by_the_filesystem_plugin_comes_from_files_dir(crafted, run, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    content = b"kept on disk by osTicket's storage plugin\n"
    (tmp_path / "files" / "k").mkdir(parents=True)
    (tmp_path / "files" / "k" / "kdiskfile").write_bytes(content)
    ann = crafted.user("Ann", "ann@example.net")
    crafted.ticket("500040", "With a file on disk", user_id=ann)
    entry = crafted.rows("SELECT MAX(id) FROM ost_thread_entry")[0][0]
    file_id = crafted.sql(
        "INSERT INTO ost_file (ft, bk, type, size, `key`, signature, name, created) "
        "VALUES ('T', 'F', 'text/plain', %s, 'kdiskfile', 'sig', 'disk.txt', NOW())",
        [len(content)],
    )
    crafted.sql(
        "INSERT INTO ost_attachment (object_id, type, file_id, inline) VALUES (%s, 'H', %s, 0)", [entry, file_id]
    )
    run(crafted, files_dir=tmp_path / "files")
    attachment = Attachment.objects.get(name="disk.txt")
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    with attachment.file.open("rb") as stored:
        assert stored.read() == content


def test_a_second_run_brings_only_what_changed(crafted, run):
    ann = crafted.user("Ann", "ann@example.net")
    first = crafted.ticket("500050", "First", user_id=ann)
    run(crafted)
    crafted.sql("UPDATE ost_ticket SET status_id = 3, closed = NOW(), updated = NOW() WHERE ticket_id = %s", [first])
    second = crafted.ticket("500051", "Second", user_id=ann)
    thread = crafted.rows("SELECT id FROM ost_thread WHERE object_id = %s", [first])[0][0]
    crafted.sql(
        "INSERT INTO ost_thread_entry (pid, thread_id, staff_id, user_id, type, flags, poster, source, body, format, "
        "ip_address, created, updated) VALUES (0, %s, 1, 0, 'R', 0, 'Lab Admin', '', '<p>Fixed</p>', 'html', '', "
        "NOW(), NOW())",
        [thread],
    )
    report = run(crafted)
    assert report.tables["ticket"].counts["updated"] == 1
    assert report.tables["ticket"].counts[IMPORTED] == 1
    assert report.tables["thread_entry"].counts[IMPORTED] == 2  # the reply, and the new ticket's message
    assert report.tables["thread_entry"].counts[UNCHANGED] == 1
    assert ticket_of(first).state == State.CLOSED
    assert ticket_of(second).subject == "Second"
    assert ThreadEntry.objects.filter(ticket=ticket_of(first)).count() == 2
    assert not Ticket.objects.values("number").annotate(n=Count("id")).filter(n__gt=1).exists()


def test_the_source_is_never_written(crafted):
    source = Source(crafted.url)
    try:
        with pytest.raises(Exception, match=r"READ ONLY|read-only|read only"):
            source.all(
                "INSERT INTO ost_user (org_id, default_email_id, status, name, created, updated) "
                "VALUES (0, 0, 0, 'x', NOW(), NOW())"
            )
    finally:
        source.close()


def test_a_wrong_prefix_says_so(crafted):
    with pytest.raises(SourceError, match="prefix"):
        Source(crafted.url, prefix="nope_")


def test_inline_images_stay_inline(crafted, run, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60
    ann = crafted.user("Ann", "ann@example.net")
    crafted.ticket(
        "500060", "Screenshot", user_id=ann, body='<p>See <img src="cid:imgkey01" alt="shot"></p>', body_format="html"
    )
    entry = crafted.rows("SELECT MAX(id) FROM ost_thread_entry")[0][0]
    file_id = crafted.sql(
        "INSERT INTO ost_file (ft, bk, type, size, `key`, signature, name, created) "
        "VALUES ('T', 'D', 'image/png', %s, 'imgkey01', 'sig', 'shot.png', NOW())",
        [len(png)],
    )
    crafted.sql("INSERT INTO ost_file_chunk (file_id, chunk_id, filedata) VALUES (%s, 0, %s)", [file_id, png])
    crafted.sql(
        "INSERT INTO ost_attachment (object_id, type, file_id, inline) VALUES (%s, 'H', %s, 1)", [entry, file_id]
    )
    run(crafted)
    attachment = Attachment.objects.get(name="shot.png")
    assert attachment.content_id == "imgkey01"
    assert attachment.sha256 == hashlib.sha256(png).hexdigest()
    assert 'src="cid:imgkey01"' in attachment.entry.body_html


def test_tasks_come_over_with_their_title_state_and_notes(crafted, run):
    from tessera.tasks.models import Task, TaskState

    ann = crafted.user("Ann", "ann@example.net")
    ticket = crafted.ticket("500070", "Needs a technician", user_id=ann)
    task = crafted.sql(
        "INSERT INTO ost_task (object_id, object_type, number, dept_id, staff_id, team_id, lock_id, flags, duedate, "
        "created, updated) VALUES (%s, 'T', '42', 1, 1, 0, 0, 1, '2024-03-05 17:00:00', '2024-03-01 10:00:00', "
        "'2024-03-01 10:00:00')",
        [ticket],
    )
    entry = crafted.sql(
        "INSERT INTO ost_form_entry (form_id, object_id, object_type, sort, created, updated) "
        "VALUES (5, %s, 'A', 1, NOW(), NOW())",
        [task],
    )
    crafted.sql(
        "INSERT INTO ost_form_entry_values (entry_id, field_id, value) VALUES (%s, 32, 'Replace the fuser')", [entry]
    )
    thread = crafted.sql("INSERT INTO ost_thread (object_id, object_type, created) VALUES (%s, 'A', NOW())", [task])
    crafted.sql(
        "INSERT INTO ost_thread_entry (pid, thread_id, staff_id, user_id, type, flags, poster, source, body, format, "
        "ip_address, created, updated) VALUES (0, %s, 1, 0, 'N', 0, 'Lab Admin', '', 'Part ordered', 'text', '', "
        "'2024-03-01 10:05:00', '2024-03-01 10:05:00')",
        [thread],
    )
    report = run(crafted)
    imported = Task.objects.get(number=42)
    assert imported.title == "Replace the fuser"
    assert imported.ticket == ticket_of(ticket)
    assert imported.state == TaskState.OPEN
    assert imported.assignee is not None and imported.assignee.user.email == "labadmin@example.org"
    assert imported.due_at == dt.datetime(2024, 3, 5, 17, 0, tzinfo=dt.UTC)
    assert [e.body_text for e in imported.entries.all()] == ["Part ordered"]
    assert report.tables["task"].counts[IMPORTED] == 1
    assert report.tables["thread_entry"].counts[IMPORTED] == 2


def test_the_command_prints_the_report_and_shows_progress_on_stderr(crafted, settings, tmp_path, capsys):
    from django.core.management import call_command

    settings.DATA_DIR = tmp_path / "data"
    ann = crafted.user("Ann", "ann@example.net")
    crafted.ticket("500080", "By the command", user_id=ann)
    call_command("import_osticket", "--source", crafted.url)
    out, err = capsys.readouterr()
    assert "ticket                          1         1" in out
    assert "Every source row is accounted for." in out
    assert "Full report: " in out and str(tmp_path / "data" / "imports") in out
    assert "ticket: 1 / 1 rows" in err


def test_since_imports_only_tickets_updated_since_then(crafted, run):
    ann = crafted.user("Ann", "ann@example.net")
    old = crafted.ticket("500090", "Old", user_id=ann, created="2020-01-01 10:00:00")
    new = crafted.ticket("500091", "New", user_id=ann, created="2024-06-01 10:00:00")
    report = run(crafted, since=dt.datetime(2024, 1, 1))  # noqa: DTZ001  in the source's zone, like its dates
    assert report.tables["ticket"].source_rows == 1
    assert ticket_of(new).subject == "New"
    assert not IdMap.objects.filter(source_table="ticket", source_id=old).exists()


def test_a_source_that_is_not_reachable_is_a_clear_error(db):
    with pytest.raises(SourceError, match="Cannot connect"):
        Source("mysql://nobody:wrong@127.0.0.1:3306/ost_h_nothing_here")
    with pytest.raises(SourceError, match="must look like"):
        Source("postgres://127.0.0.1/x")


def test_custom_forms_fields_lists_and_answers_come_over(crafted, run):
    from tessera.customfields.models import Field, FieldType, FieldValue, Form

    office_list = crafted.sql(
        "INSERT INTO ost_list (name, name_plural, sort_mode, masks, type, configuration, notes, created, updated) "
        "VALUES ('Offices', 'Offices', 'SortCol', 0, '', '{}', '', NOW(), NOW())"
    )
    crafted.sql(
        "INSERT INTO ost_list_items (list_id, status, value, sort) VALUES (%s, 1, 'Berlin', 1), (%s, 1, 'Riga', 2)",
        [office_list, office_list],
    )
    fields = {
        "office": (f"list-{office_list}", "{}", '{"2":"Riga"}'),
        "colour": ("choices", '{"choices":"r:Red\\ng:Green","multiselect":true}', '{"r":"Red","g":"Green"}'),
        "urgent": ("bool", "{}", "1"),
        "visit": ("datetime", '{"time":true}', "2024-03-01 09:30:00"),
        "serial": ("text", "{}", "SN-42"),
        "upload": ("files", "{}", "[]"),
    }
    ids = {}
    for sort, (name, (kind, config, _value)) in enumerate(fields.items(), start=10):
        ids[name] = crafted.sql(
            "INSERT INTO ost_form_field (form_id, flags, type, label, name, configuration, sort, created, updated) "
            "VALUES (2, 0, %s, %s, %s, %s, %s, NOW(), NOW())",
            [kind, name.title(), name, config, sort],
        )
    ann = crafted.user("Ann", "ann@example.net")
    ticket = crafted.ticket("500100", "With answers", user_id=ann)
    entry = crafted.rows("SELECT id FROM ost_form_entry WHERE object_type = 'T' AND object_id = %s", [ticket])[0][0]
    for name, (_kind, _config, value) in fields.items():
        crafted.sql(
            "INSERT INTO ost_form_entry_values (entry_id, field_id, value) VALUES (%s, %s, %s)",
            [entry, ids[name], value],
        )
    report = run(crafted)
    form = Form.objects.get(title="Ticket Details")
    assert form.for_all_tickets
    by_key = {f.key: f for f in Field.objects.filter(form=form)}
    assert set(by_key) == {"osticket_office", "osticket_colour", "osticket_urgent", "osticket_visit", "osticket_serial"}
    assert by_key["osticket_colour"].type == FieldType.MULTIPLE_CHOICE
    answers = FieldValue.objects.filter(ticket=ticket_of(ticket))
    assert sorted(a.item.label for a in answers.filter(field=by_key["osticket_colour"])) == ["Green", "Red"]
    assert answers.get(field=by_key["osticket_office"]).item.label == "Riga"
    assert answers.get(field=by_key["osticket_urgent"]).flag is True
    assert answers.get(field=by_key["osticket_visit"]).moment == dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)
    assert answers.get(field=by_key["osticket_serial"]).text == "SN-42"
    assert f"form_field#{ids['upload']}: type files has no Tessera equivalent" in report.tables["form_field"].notes
    again = run(crafted)
    assert again.tables["form_entry"].counts[IMPORTED] == 0
    assert FieldValue.objects.filter(ticket=ticket_of(ticket)).count() == 6
