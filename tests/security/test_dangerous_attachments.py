"""Files that run code are refused, by their name and by their content.

The probe attached .hta, .msc, .lnk, .vbe, .jse, .wsf, .cpl, .pif, .iso and .docm files and all
were accepted. A program renamed to .pdf or .txt must not slip through either, and a file that
calls itself an image but is not one must never be shown inline."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from django.core.exceptions import ValidationError
from django.urls import reverse

from tessera.mail import ingest as inbox
from tessera.tickets import services
from tessera.tickets.attachments import Upload, validate_uploads
from tessera.tickets.models import Attachment, Ticket

from ..mail.test_ingest import mail
from ..portal.helpers import PNG, upload
from ..portal.test_open_ticket import HOME, guest_form

# What mail gateways (Gmail, Exchange Online's common attachment filter) refuse by name.
BLOCKED_NAMES = [
    "report.hta", "console.msc", "invoice.lnk", "a.vbe", "a.jse", "a.wsf", "a.wsh", "panel.cpl", "a.pif",
    "disk.iso", "disk.img", "disk.vhd", "disk.vhdx", "letter.docm", "sheet.xlsm", "slides.pptm", "tpl.dotm",
    "addin.xlam", "saver.scr", "a.com", "a.bat", "a.cmd", "a.ps1", "a.js", "a.jar", "setup.msi", "setup.exe",
    "lib.dll", "tweak.reg", "a.vbs", "help.chm", "app.appx", "app.msix", "a.msp", "a.mst", "a.sct", "a.jnlp",
    "a.application", "a.gadget", "a.scf", "a.ade", "a.adp", "LETTER.DOCM", "letter.docm.",
]  # fmt: skip


def _pe() -> bytes:
    """A Windows program's headers: the MZ stub pointing at the PE signature."""
    header = bytearray(b"MZ" + b"\0" * 126)
    header[0x3C:0x40] = struct.pack("<I", 0x80)
    return bytes(header) + b"PE\0\0" + b"\x4c\x01" + b"\0" * 200


def _elf() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\0" * 120


def _macho() -> bytes:
    return b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\0" * 120


def _msi() -> bytes:
    """A compound file whose root entry carries the Windows Installer class id."""
    header = bytearray(512)
    header[0:8] = bytes.fromhex("d0cf11e0a1b11ae1")
    header[0x1E:0x20] = struct.pack("<H", 9)  # 512-byte sectors
    header[0x30:0x34] = struct.pack("<I", 0)  # the directory starts in sector 0
    directory = bytearray(512)
    directory[0:10] = "Root".encode("utf-16-le") + b"\0\0"
    directory[0x50:0x60] = bytes.fromhex("84100c0000000000c000000000000046")
    return bytes(header + directory)


def _ooxml(with_macros: bool) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        if with_macros:
            z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0macro")
    return buffer.getvalue()


def _refusal(uploads: list[Upload]) -> str:
    with pytest.raises(ValidationError) as refused:
        validate_uploads(uploads)
    return " ".join(refused.value.messages)


@pytest.mark.parametrize("name", BLOCKED_NAMES)
def test_files_of_the_types_mail_gateways_block_are_refused_by_name(db, name):
    assert "are not accepted" in _refusal([Upload(name, b"harmless bytes", "application/octet-stream")])


@pytest.mark.parametrize(
    "name, content",
    [
        ("invoice.pdf", _pe()),
        ("notes.txt", _elf()),
        ("photo.jpg", _macho()),
        ("readme.doc", _msi()),
        ("data.bin", _pe()),
    ],
    ids=["PE as pdf", "ELF as txt", "Mach-O as jpg", "MSI as doc", "PE as bin"],
)
def test_a_program_under_a_harmless_name_is_refused_by_its_content(db, name, content):
    assert f"“{name}” is a program" in _refusal([Upload(name, content, "application/pdf")])


def test_a_document_with_macros_under_a_plain_office_name_is_refused(db):
    assert "macros" in _refusal([Upload("letter.docx", _ooxml(with_macros=True), "application/octet-stream")])


@pytest.mark.parametrize(
    "name, content",
    [
        ("letter.docx", _ooxml(with_macros=False)),
        ("quote.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"),
        ("log.txt", b"MZ is where the error starts\n"),  # text that merely begins with MZ
        ("shot.png", PNG),
        ("archive.zip", _ooxml(with_macros=False)),
    ],
    ids=["docx", "pdf", "text beginning with MZ", "png", "zip"],
)
def test_ordinary_files_are_still_accepted(db, name, content):
    validate_uploads([Upload(name, content, "application/octet-stream")])


def test_the_portal_refuses_a_renamed_program_and_keeps_what_was_typed(client, desk):
    response = client.post(HOME, {**guest_form(desk), "attachments": [upload("invoice.pdf", _pe(), "application/pdf")]})
    assert response.status_code == 400
    html = response.content.decode()
    assert "“invoice.pdf” is a program" in html
    assert 'value="Mail server down"' in html
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_the_workspace_refuses_a_renamed_program(desk, ken_ticket):
    with pytest.raises(ValidationError):
        services.add_note(desk.john.user, ken_ticket, note="fix", uploads=[Upload("fix.txt", _elf(), "text/plain")])
    assert not Attachment.objects.exists()


def test_mail_keeps_the_message_and_drops_a_renamed_program_with_a_visible_note(
    desk, django_capture_on_commit_callbacks
):
    raw = mail(
        body="Invoice attached.",
        attachments=(("invoice.pdf", _pe(), "application/pdf"), ("real.pdf", b"%PDF-1.7\n", "application/pdf")),
    )
    with django_capture_on_commit_callbacks(execute=True):
        row = inbox.ingest(raw, channel="pipe")
    assert [a.name for a in row.entry.attachments.all()] == ["real.pdf"]
    assert "Attachment invoice.pdf was not kept" in row.entry.body_text
    assert "is a program" in row.entry.body_text


def test_a_file_that_only_claims_to_be_an_image_is_never_shown_inline(client, desk, ken_ticket):
    fake = b"<html><script>alert(document.cookie)</script></html>"
    entry = services.reply(
        desk.ken, ken_ticket, message="Screens.",
        uploads=[Upload("fake.png", fake, "image/png"), Upload("real.png", PNG, "image/png")],
    )  # fmt: skip
    fake_att, real_att = entry.attachments.get(name="fake.png"), entry.attachments.get(name="real.png")
    assert fake_att.content_type == "application/octet-stream"

    client.force_login(desk.john.user)
    staff = client.get(reverse("staff:attachment", args=[fake_att.pk]))
    assert staff["Content-Disposition"].startswith("attachment")
    assert staff["Content-Type"] == "application/octet-stream"
    assert client.get(reverse("staff:attachment", args=[real_att.pk]))["Content-Disposition"].startswith("inline")

    client.force_login(desk.ken)
    portal = client.get(reverse("portal:ticket_file", args=[ken_ticket.number, fake_att.pk]))
    assert portal["Content-Disposition"].startswith("attachment")
    page = client.get(reverse("staff:ticket", args=[ken_ticket.number]))  # Ken is no agent: no inline preview
    assert page.status_code in (302, 403, 404)


def test_an_image_declared_as_the_wrong_image_type_is_stored_as_what_it_is(desk, ken_ticket):
    entry = services.reply(desk.ken, ken_ticket, message="Shot.", uploads=[Upload("shot.jpg", PNG, "image/jpeg")])
    assert entry.attachments.get().content_type == "image/png"
