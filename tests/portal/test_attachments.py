"""Downloading attachments: only public files of tickets the viewer may see, served safely."""

from __future__ import annotations

import pytest

from django.urls import reverse

from tessera.tickets import access_links, services
from tessera.tickets.attachments import Upload

from .helpers import PNG, access_path, page_text


@pytest.fixture
def files(desk, ken_ticket):
    """A screenshot from Ken, a web page from John, and a file on John's internal note."""
    john = desk.john.user
    ken_msg = services.reply(
        desk.ken, ken_ticket, message="Screenshot attached.", uploads=[Upload("jam.png", PNG, "image/png")]
    )
    answer = services.reply(
        john,
        ken_ticket,
        message="See the guide.",
        uploads=[Upload("guide.html", b"<script>alert(1)</script>", "text/html")],
    )
    note = services.add_note(
        john, ken_ticket, note="Vendor quote.", uploads=[Upload("quote.pdf", b"%PDF-1.4", "application/pdf")]
    )
    return {
        "png": ken_msg.attachments.get(),
        "html": answer.attachments.get(),
        "note": note.attachments.get(),
    }


def file_via_link(ticket, user, attachment) -> str:
    return reverse("portal:access_file", args=[access_links.make_token(ticket, user), attachment.pk])


def test_ticket_page_links_public_attachments_only(client, desk, ken_ticket, files):
    html = page_text(client.get(access_path(ken_ticket, desk.ken)))

    assert "jam.png" in html and "guide.html" in html
    assert file_via_link(ken_ticket, desk.ken, files["png"]) in html
    assert "quote.pdf" not in html


def test_party_downloads_an_image_inline_and_other_files_as_attachments(client, desk, ken_ticket, files):
    image = client.get(file_via_link(ken_ticket, desk.ken, files["png"]))
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"] == 'inline; filename="jam.png"'
    assert image["X-Content-Type-Options"] == "nosniff"
    assert b"".join(image.streaming_content) == PNG

    page = client.get(file_via_link(ken_ticket, desk.ken, files["html"]))
    assert page.status_code == 200
    assert page["Content-Disposition"] == 'attachment; filename="guide.html"'
    assert page["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in page["Content-Security-Policy"]
    assert "private" in page["Cache-Control"]


def test_signed_in_party_downloads_through_my_tickets(client, desk, ken_ticket, files):
    client.force_login(desk.ken)

    response = client.get(reverse("portal:ticket_file", args=[ken_ticket.number, files["png"].pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


def test_collaborator_may_download(client, desk, ken_ticket, carol, files):
    assert client.get(file_via_link(ken_ticket, carol, files["png"])).status_code == 200


def test_attachment_on_internal_note_is_refused(client, desk, ken_ticket, files):
    assert client.get(file_via_link(ken_ticket, desk.ken, files["note"])).status_code == 404

    client.force_login(desk.ken)
    response = client.get(reverse("portal:ticket_file", args=[ken_ticket.number, files["note"].pk]))
    assert response.status_code == 404
    assert "We could not find that file." in page_text(response)


def test_outsider_cannot_download(client, desk, ken_ticket, files, mary, mary_ticket):
    # Mary's own link, pointed at Ken's file.
    assert client.get(file_via_link(mary_ticket, mary, files["png"])).status_code == 404

    client.force_login(mary)
    for number in (ken_ticket.number, mary_ticket.number):
        assert client.get(reverse("portal:ticket_file", args=[number, files["png"].pk])).status_code == 404


def test_bad_link_cannot_download(client, desk, ken_ticket, files):
    response = client.get(reverse("portal:access_file", args=["forged", files["png"].pk]))

    assert response.status_code == 404
    assert "This link is not valid" in page_text(response)


def test_signed_out_download_through_my_tickets_asks_to_sign_in(client, desk, ken_ticket, files):
    response = client.get(reverse("portal:ticket_file", args=[ken_ticket.number, files["png"].pk]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:login"))


def test_reply_with_attachment_through_access_link(client, desk, ken_ticket):
    from django.core.files.uploadedfile import SimpleUploadedFile

    path = access_path(ken_ticket, desk.ken)
    response = client.post(
        path,
        {
            "message": "Here is the log.",
            "version": ken_ticket.version,
            "attachments": [SimpleUploadedFile("printer.log", b"E42 paper jam", "text/plain")],
        },
    )

    assert response.status_code == 302
    entry = ken_ticket.entries.order_by("-id").first()
    assert entry.attachments.get().name == "printer.log"
    assert "printer.log" in page_text(client.get(path))
