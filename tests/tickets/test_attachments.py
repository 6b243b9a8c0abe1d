"""Files people attach: stored with what they are, refused before anything is saved when they are not welcome."""

from __future__ import annotations

import hashlib

import pytest

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tessera.tickets import services
from tessera.tickets.attachments import Upload, from_uploaded_files
from tessera.tickets.models import Attachment, Ticket
from tessera.tickets.services import imported

from .helpers import unchanged

PDF = b"%PDF-1.4\n% a tiny pdf\n"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"  # a 61-character subtype


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def open_with(desk, *uploads, actor=None):
    return services.open_ticket(
        actor or desk.ken,
        requester=desk.ken,
        subject="Printer jams",
        message="Photo attached.",
        topic=desk.general,
        uploads=list(uploads),
    )


def test_attachment_is_stored_with_its_name_size_type_and_fingerprint(desk, settings):
    ticket = open_with(desk, Upload("error log.pdf", PDF, "application/pdf"))

    [att] = Attachment.objects.filter(entry__ticket=ticket)
    assert att.entry == ticket.entries.get()
    assert att.name == "error_log.pdf"
    assert att.size == len(PDF)
    assert att.content_type == "application/pdf"
    assert att.sha256 == hashlib.sha256(PDF).hexdigest()
    assert att.file.name == f"attachments/{att.sha256[:2]}/{att.sha256}/error_log.pdf"
    with att.file.open("rb") as f:
        assert f.read() == PDF
    assert stored_files(settings) == [settings.MEDIA_ROOT / att.file.name]


def test_missing_content_type_is_guessed_from_the_name(desk):
    ticket = open_with(desk, Upload("photo.png", b"\x89PNG..."), Upload("notes.weird", b"?"))

    types = dict(Attachment.objects.filter(entry__ticket=ticket).values_list("name", "content_type"))
    assert types == {"photo.png": "image/png", "notes.weird": "application/octet-stream"}


@pytest.mark.parametrize(
    ("declared", "stored"),
    [
        ("APPLICATION/PDF", "application/pdf"),
        ('application/pdf; name="scan.pdf"', "application/pdf"),
        ("pdf", "application/pdf"),
        ("application/", "application/pdf"),
        ("text/html\r\nX-Injected: 1", "application/pdf"),
        ("application/pdf\u00e9", "application/pdf"),
        ("a/" + "b" * 200, "application/pdf"),
        ("a/" + "b" * 118, "a/" + "b" * 118),
        ("a/" + "b" * 119, "application/pdf"),
        (PPTX, PPTX),
    ],
)
def test_a_declared_type_is_kept_bare_and_one_that_is_not_a_type_is_guessed_from_the_name(desk, declared, stored):
    ticket = open_with(desk, Upload("scan.pdf", PDF, declared))

    assert Attachment.objects.get(entry__ticket=ticket).content_type == stored


def test_uploaded_form_files_become_uploads(desk):
    files = [SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf")]

    ticket = open_with(desk, *from_uploaded_files(files))

    assert Attachment.objects.get(entry__ticket=ticket).size == len(PDF)


def test_replies_and_notes_carry_attachments_too(desk, ken_ticket):
    reply = services.reply(desk.john.user, ken_ticket, message="Driver attached.", uploads=[Upload("driver.zip", b"z")])
    note = services.add_note(desk.john.user, ken_ticket, note="Invoice.", uploads=[Upload("invoice.pdf", PDF)])

    assert [a.name for a in reply.attachments.all()] == ["driver.zip"]
    assert [a.name for a in note.attachments.all()] == ["invoice.pdf"]


def test_folder_names_in_a_file_name_are_dropped(desk):
    ticket = open_with(desk, Upload("../../etc/passwd", b"x"), Upload("C:\\Users\\ken\\report.txt", b"y"))

    assert sorted(Attachment.objects.filter(entry__ticket=ticket).values_list("name", flat=True)) == [
        "passwd",
        "report.txt",
    ]


@pytest.mark.parametrize("name", ["?", "..", "", "???"])
def test_a_file_with_an_unusable_name_is_still_stored(desk, name):
    ticket = open_with(desk, Upload(name, b"data"))

    assert Attachment.objects.get(entry__ticket=ticket).name == "attachment"


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "name",
    ["setup.exe", "SETUP.EXE", "script.js", "run.ps1", "setup.exe.", "setup.exe ", "setup.exe . ", "docs/setup.exe"],
)
def test_blocked_file_types_are_refused_and_no_ticket_is_created(desk, settings, name):
    with pytest.raises(ValidationError) as exc:
        open_with(desk, Upload("fine.pdf", PDF), Upload(name, b"MZ..."))

    [message] = exc.value.message_dict["attachments"]
    assert "are not accepted" in message and name in message
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()
    assert stored_files(settings) == []


def test_oversized_file_is_refused_with_its_size_and_the_limit(desk, settings):
    settings.TESSERA = {**settings.TESSERA, "MAX_ATTACHMENT_BYTES": 1024}

    with pytest.raises(ValidationError) as exc:
        open_with(desk, Upload("photo.jpg", b"x" * 2048))

    assert exc.value.message_dict == {"attachments": ["“photo.jpg” is 2.0\xa0KB; the limit is 1.0\xa0KB."]}
    assert not Ticket.objects.exists()
    assert stored_files(settings) == []


def test_a_file_of_exactly_the_limit_is_accepted(desk, settings):
    settings.TESSERA = {**settings.TESSERA, "MAX_ATTACHMENT_BYTES": 1024}

    ticket = open_with(desk, Upload("photo.jpg", b"x" * 1024))

    assert Attachment.objects.get(entry__ticket=ticket).size == 1024


def test_too_many_files_are_refused(desk, settings):
    settings.TESSERA = {**settings.TESSERA, "MAX_ATTACHMENTS": 2}

    with pytest.raises(ValidationError) as exc:
        open_with(desk, *(Upload(f"p{i}.png", b"x") for i in range(3)))

    assert exc.value.message_dict == {"attachments": ["Attach at most 2 files."]}
    assert not Ticket.objects.exists()


def test_every_refused_file_is_named_in_one_answer(desk, settings):
    settings.TESSERA = {**settings.TESSERA, "MAX_ATTACHMENT_BYTES": 10}

    with pytest.raises(ValidationError) as exc:
        open_with(desk, Upload("a.exe", b"x"), Upload("b.png", b"x" * 11), Upload("c.png", b"ok"))

    messages = exc.value.message_dict["attachments"]
    assert len(messages) == 2
    assert "a.exe" in messages[0] and "b.png" in messages[1]


def test_a_refused_attachment_on_a_reply_leaves_the_ticket_untouched(desk, ken_ticket, settings):
    with pytest.raises(ValidationError), unchanged(ken_ticket):
        services.reply(desk.ken, ken_ticket, message="See attached.", uploads=[Upload("virus.scr", b"MZ")])

    with pytest.raises(ValidationError), unchanged(ken_ticket):
        services.add_note(desk.john.user, ken_ticket, note="Tool.", uploads=[Upload("tool.bat", b"@echo")])

    assert stored_files(settings) == []


def test_an_upload_over_the_limit_is_refused_without_being_read_into_memory(settings):
    from tessera.tickets import attachments

    settings.TESSERA = {**settings.TESSERA, "MAX_ATTACHMENT_BYTES": 1024}

    class Huge(SimpleUploadedFile):
        def read(self, *args):
            raise AssertionError("an oversized upload must not be read")

    huge = Huge("backup.tar", b"", content_type="application/x-tar")
    huge.size = 5 * 1024 * 1024 * 1024
    uploads = attachments.from_uploaded_files([huge])
    with pytest.raises(ValidationError) as refused:
        attachments.validate_uploads(uploads)
    message = refused.value.message_dict["attachments"][0].replace("\xa0", " ")
    assert message == "“backup.tar” is 5.0 GB; the limit is 1.0 KB."


def test_an_imported_file_is_typed_by_the_same_rules_as_an_uploaded_one(desk, ken_ticket):
    entry = ken_ticket.entries.get()
    disguised = imported.import_attachment(entry.pk, "cat.png", b"<script>alert(1)</script>", "image/png")
    broken = imported.import_attachment(entry.pk, "notes.txt", b"notes", "text/plain\r\nX-Injected: 1")
    assert (disguised.content_type, broken.content_type) == ("application/octet-stream", "text/plain")
