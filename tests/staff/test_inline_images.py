"""An email's inline images (src="cid:…") show where the sender put them, through the same
permission-checked download links as other attachments, in the workspace and on the portal."""

from __future__ import annotations

import re

from django.core.files.base import ContentFile

from tessera.tickets.access_links import make_token
from tessera.tickets.content import clean_html, link_inline_images
from tessera.tickets.models import Attachment, EntryKind, ThreadEntry

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def mail_entry(ticket, author) -> tuple[ThreadEntry, Attachment]:
    """A message as ingest stores one from a mail client: sanitised HTML citing an inline image."""
    body = clean_html('<p>The error looks like this:</p><p><img src="cid:shot-1@client" alt="screen"></p>')
    entry = ThreadEntry.objects.create(
        ticket=ticket, kind=EntryKind.MESSAGE, author=author, author_name="Ken", body_html=body, body_text="x"
    )
    image = Attachment(
        entry=entry, name="screen.png", size=len(PNG), content_type="image/png", content_id="shot-1@client"
    )
    image.file.save("screen.png", ContentFile(PNG), save=False)
    image.sha256 = "0" * 64
    image.save()
    return entry, image


def test_the_sanitiser_keeps_cid_sources_and_the_link_replaces_only_known_ones():
    body = clean_html('<img src="cid:a@x"><img src="cid:unknown@x">')

    class File:
        pk, content_id = 7, "a@x"

    linked, shown = link_inline_images(body, [File()], lambda f: f"/files/{f.pk}/")
    assert 'src="/files/7/"' in linked
    assert 'src="cid:unknown@x"' in linked  # nothing stored for it: left as it was
    assert shown == {7}


def test_agents_see_inline_images_in_place_not_repeated_as_attachments(as_agent, desk, ken_ticket):
    entry, image = mail_entry(ken_ticket, desk.ken)
    page = as_agent(desk.john).get(f"/staff/tickets/{ken_ticket.number}/").content.decode()
    block = page[page.index(f'id="entry-{entry.pk}"') :]
    block = block[: block.index("</li>")]
    assert f'<img src="/staff/files/{image.pk}/"' in block
    assert 'class="attachments"' not in block
    assert as_agent(desk.john).get(f"/staff/files/{image.pk}/")["Content-Type"] == "image/png"


def test_the_requester_sees_inline_images_through_the_access_link(client, desk, ken_ticket):
    _entry, image = mail_entry(ken_ticket, desk.ken)
    token = make_token(ken_ticket, desk.ken)
    page = client.get(f"/t/{token}/").content.decode()
    assert re.search(rf'<img src="/t/{re.escape(token)}/files/{image.pk}/"', page)


def test_a_hostile_content_id_or_link_cannot_break_out_of_the_src_attribute():
    body = clean_html('<img src="cid:a&quot;b@x">')

    class File:
        pk, content_id = 3, 'a"b@x'

    linked, shown = link_inline_images(body, [File()], lambda f: '/files/3/" onerror="alert(1)')
    assert shown == {3}
    assert 'onerror="' not in linked and 'src="/files/3/&quot; onerror=&quot;alert(1)"' in linked


def test_hostile_mail_html_and_content_ids_stay_inert_on_the_portal_and_in_the_workspace(client, as_agent, desk):
    from tessera.mail import ingest as inbox
    from tests.mail.test_ingest import mail

    evil_cid = 'evil"onerror="alert(3)@x'  # no space: a Content-ID has none
    raw = mail(
        subject="Hostile",
        html=f"<script>alert(1)</script><img src=x onerror=alert(2)><p><img src='cid:{evil_cid}'></p>",
        attachments=(("shot.png", PNG, "image/png", evil_cid),),
    )
    row = inbox.ingest(raw, channel="pipe")
    token = make_token(row.ticket, desk.ken)

    portal = client.get(f"/t/{token}/").content.decode()
    workspace = as_agent(desk.john).get(f"/staff/tickets/{row.ticket.number}/").content.decode()

    assert re.search(r'<img src="/staff/files/\d+/"', workspace)  # the inline image is linked, in place
    for page in (portal, workspace):
        assert "<script>alert" not in page
        assert 'onerror="' not in page and "onerror=alert" not in page


def test_a_file_kept_with_a_malformed_type_downloads_as_bytes_in_the_workspace_and_on_the_portal(
    client, as_agent, desk, ken_ticket
):
    _entry, image = mail_entry(ken_ticket, desk.ken)
    Attachment.objects.filter(pk=image.pk).update(content_type="image/png\u00e9")  # as an older release kept it
    download = as_agent(desk.john).get(f"/staff/files/{image.pk}/")
    assert download["Content-Type"] == "application/octet-stream" and "attachment" in download["Content-Disposition"]
    token = make_token(ken_ticket, desk.ken)
    assert client.get(f"/t/{token}/files/{image.pk}/")["Content-Type"] == "application/octet-stream"
