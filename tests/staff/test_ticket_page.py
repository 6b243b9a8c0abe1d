"""What an agent sees on a ticket: header, the whole timeline, and only the forms they can use."""

from __future__ import annotations

import re

import pytest

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tessera.tickets import services
from tessera.tickets.attachments import Upload
from tessera.tickets.models import Attachment, Ticket

from .conftest import ticket_url

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def busy_ticket(desk, ken_ticket):
    """Ken's ticket after a morning of work: a response, a note, a customer reply, changes."""
    john = desk.john.user
    services.reply(john, ken_ticket, message="Have you tried **turning it off**?")
    services.add_note(john, ken_ticket, note="Suspect the fuser.", uploads=[Upload("fuser.png", PNG, "image/png")])
    services.reply(desk.ken, ken_ticket, message="Still jams.", uploads=[Upload("log.txt", b"E42", "text/plain")])
    services.set_priority(john, ken_ticket, priority=desk.sev_a)
    services.assign(john, ken_ticket, agent=desk.jane, note="Jane knows printers.")
    services.add_collaborator(john, ken_ticket, user=desk.olga.user)
    ken_ticket.refresh_from_db()
    return ken_ticket


def entry_block(html: str, text: str) -> str:
    for block in re.findall(r'<li class="entry .*?</li>\s*(?=<li class="e|</ol>)', html, re.S):
        if text in block:
            return block
    raise AssertionError(f"no timeline entry containing {text!r}")


def test_header_shows_subject_number_badges_people_and_dates(as_agent, desk, busy_ticket):
    html = as_agent(desk.john).get(ticket_url(busy_ticket)).content.decode()
    assert "<h1>Printer jams</h1>" in html
    assert f'<span class="ticket-number">#{busy_ticket.number}</span>' in html
    assert '<span class="badge state-open">Open</span>' in html
    assert '<span class="badge badge-priority priority-1">Sev-A (Emergency)</span>' in html
    head = re.search(r'<header class="ticket-head">.*?</header>', html, re.S).group(0)
    requester = f'from <a href="/staff/people/{desk.ken.pk}/" id="requester-link"><strong>Ken Adams</strong></a>'
    assert requester in head and "ken@example.com" in head  # the name opens Ken's page in the directory
    facts = re.search(r'<dl class="facts">.*?</dl>', html, re.S).group(0)
    for fact in ("Ken Adams", "ken@example.com", "Created", "Updated"):
        assert fact in facts
    panel = re.search(r'<section class="card panel props".*?</section>', html, re.S).group(0)
    for value in ("Support", "Jane Doe", "General question", "Sev-A (Emergency)", "Open"):
        assert re.search(rf"<option value=\"\d+\" selected>{re.escape(value)}</option>", panel), value


def test_header_names_the_users_organisation(as_agent, desk):
    from tessera.accounts.models import Organization

    desk.ken.organization = Organization.objects.create(name="Example Corp")
    desk.ken.save()
    ticket = services.open_ticket(desk.ken, requester=desk.ken, subject="Hi", message="Hello", topic=desk.general)
    html = as_agent(desk.john).get(ticket_url(ticket)).content.decode()
    assert "Example Corp" in re.search(r'<dl class="facts">.*?</dl>', html, re.S).group(0)


def test_timeline_interleaves_messages_responses_notes_and_events(as_agent, desk, busy_ticket):
    html = as_agent(desk.john).get(ticket_url(busy_ticket)).content.decode()
    order = [
        "It jams on page two.",
        "<strong>turning it off</strong>",
        "Suspect the fuser.",
        "Still jams.",
        "John Doe changed priority from Sev-C (Normal) to Sev-A (Emergency)",
        "Jane knows printers.",  # an assignment's note is stamped just before its event
        "John Doe assigned the ticket to Jane Doe",
        "John Doe copied olga@example.com on the ticket",
    ]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)
    assert "Ken Adams opened the ticket in Support" in html


def test_entries_say_who_wrote_them_and_notes_are_visibly_internal(as_agent, desk, busy_ticket):
    html = as_agent(desk.john).get(ticket_url(busy_ticket)).content.decode()
    note = entry_block(html, "Suspect the fuser.")
    assert 'class="entry entry-note"' in note
    assert '<span class="badge badge-internal">Internal note</span>' in note
    response = entry_block(html, "turning it off")
    assert 'class="entry entry-response"' in response and "John Doe" in response
    assert "Internal note" not in response
    message = entry_block(html, "Still jams.")
    assert 'class="entry entry-message"' in message and "Ken Adams" in message


def test_attachments_are_links_to_the_staff_download(as_agent, desk, busy_ticket):
    html = as_agent(desk.john).get(ticket_url(busy_ticket)).content.decode()
    for name in ("fuser.png", "log.txt"):
        att = Attachment.objects.get(name=name)
        assert f'<a href="/staff/files/{att.pk}/">{name}</a>' in html


def test_times_are_shown_in_the_viewers_time_zone(as_agent, desk, ken_ticket):
    desk.john.user.time_zone = "America/New_York"
    desk.john.user.save()
    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()
    assert re.search(r'<time datetime="[^"]+-0[45]:00" title="[^"]+ E[SD]T">', html)


def test_event_sentences_read_naturally_for_every_change(desk, ken_ticket):
    from tessera.tickets.event_sentences import event_sentence
    from tessera.tickets.models import Event

    john = desk.john.user
    services.claim(john, ken_ticket)
    services.release(john, ken_ticket)
    services.assign(john, ken_ticket, team=desk.ops)
    services.set_status(john, ken_ticket, status=desk.resolved)
    services.set_status(john, ken_ticket, status=desk.open)
    services.add_collaborator(john, ken_ticket, user=desk.bill.user)
    services.remove_collaborator(john, ken_ticket, user=desk.bill.user)
    services.transfer(john, ken_ticket, department=desk.sysadmin)
    sentences = [event_sentence(e) for e in Event.objects.order_by("created_at", "id")]
    assert sentences == [
        "Ken Adams opened the ticket in Support",
        "John Doe claimed the ticket",
        "John Doe released the ticket from John Doe",
        "John Doe assigned the ticket to team Infrastructure on-call",
        "John Doe changed status from Open to Resolved",
        "John Doe reopened the ticket",
        "John Doe changed status from Resolved to Open",
        "John Doe copied bill@example.com on the ticket",
        "John Doe stopped copying bill@example.com on the ticket",
        "John Doe transferred the ticket from Support to System Administration",
        "John Doe keeps following the ticket after sending it on",
    ]


def test_html_and_script_in_subject_and_message_render_harmlessly(as_agent, desk):
    ticket = services.open_ticket(
        desk.ken,
        requester=desk.ken,
        subject="<script>alert('subject')</script> printer",
        message="<script>alert('body')</script> <img src=x onerror=alert(1)> [x](javascript:alert(2))",
        topic=desk.general,
    )
    # The services strip tags from subjects; rows from elsewhere (an import, the admin) may not
    # be so clean, and the templates must not depend on it.
    Ticket.objects.filter(pk=ticket.pk).update(subject="<script>alert('subject')</script><b>printer</b>")
    desk.ken.name = "<img src=x onerror=alert('name')>"
    desk.ken.save()
    client = as_agent(desk.john)
    for url in (ticket_url(ticket), "/staff/queues/open/"):
        html = client.get(url).content.decode()
        assert "<script>alert(" not in html
        assert "<img src=x" not in html
        assert "<b>printer</b>" not in html
        assert 'href="javascript:' not in html
        assert "&lt;script&gt;alert(&#x27;subject&#x27;)&lt;/script&gt;&lt;b&gt;printer&lt;/b&gt;" in html
        assert "&lt;img src=x onerror=alert(&#x27;name&#x27;)&gt;" in html
    body = client.get(ticket_url(ticket)).content.decode()
    assert "&lt;script&gt;alert('body')&lt;/script&gt;" in body  # shown as text, not run


def test_observer_sees_only_the_forms_she_can_use(as_agent, desk, busy_ticket):
    html = as_agent(desk.olga).get(ticket_url(busy_ticket)).content.decode()
    assert "Suspect the fuser." in html  # she may read notes
    assert ">Add note</button>" in html
    for hidden in (
        ">Send reply</button>",
        ">Claim ticket</button>",
        ">Release ticket</button>",
        ">Save changes</button>",
        'id="id_props-status"',
        'id="id_props-priority"',
        'id="id_props-assignee"',
        'id="id_props-team"',
        'id="id_props-department"',
        'id="id_props-topic"',
        ">Add collaborator</button>",
        "/remove-collaborator/",
    ):
        assert hidden not in html
    assert '<span class="prop-value" id="prop-assignee">Jane Doe</span>' in html  # shown, not offered


def test_agent_sees_every_control_with_a_unique_label(as_agent, desk, busy_ticket):
    html = as_agent(desk.john).get(ticket_url(busy_ticket)).content.decode()
    labels = re.findall(r'<label for="([^"]+)">([^<]+)</label>', html)
    names = [text for _id, text in labels]
    assert len(names) == len(set(names))
    for id_, _text in labels:
        assert f'id="{id_}"' in html
    assert set(names) >= {
        "Reply",
        "Reply attachments",
        "Status after sending",
        "Internal note",
        "Note attachments",
        "Status",
        "Priority",
        "Assignee",
        "Team",
        "Department",
        "Help topic",
        "Reason",
        "Collaborator email",
    }
    for button in ("Send reply", "Add note", "Release ticket", "Save changes", "Add collaborator"):
        assert f">{button}</button>" in html
    assert '<button type="button" role="tab" id="composer-tab-note"' in html
    assert '>Remove<span class="visually-hidden"> olga@example.com</span></button>' in html


def test_every_action_form_carries_the_ticket_version(as_agent, desk, busy_ticket):
    html = as_agent(desk.john).get(ticket_url(busy_ticket)).content.decode()
    forms = re.findall(r'<form method="post" action="/staff/tickets/\d+/([a-z-]+)/".*?</form>', html, re.S)
    assert set(forms) >= {"reply", "note", "release", "properties"}
    versions = set(re.findall(r'name="[a-z-]+-version" value="(\d+)"', html))
    assert versions == {str(busy_ticket.version)}


def test_unassigned_ticket_offers_claim_not_release(as_agent, desk, ken_ticket):
    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()
    assert ">Claim ticket</button>" in html
    assert ">Release ticket</button>" not in html


def test_closed_ticket_offers_status_and_notes_but_no_reply(as_agent, desk, ken_ticket):
    services.set_status(desk.john.user, ken_ticket, status=desk.closed)
    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()
    assert 'id="id_props-status"' in html
    assert ">Add note</button>" in html
    assert ">Send reply</button>" not in html
    assert 'id="id_props-assignee"' not in html and 'id="id_props-priority"' not in html


def ticket_page_queries(client, ticket) -> int:
    client.get(ticket_url(ticket))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(ticket_url(ticket))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def add_activity(desk, ticket, rounds: int) -> None:
    john = desk.john.user
    for i in range(rounds):
        services.reply(john, ticket, message=f"Response {i}", uploads=[Upload(f"r{i}.txt", b"x", "text/plain")])
        services.add_note(john, ticket, note=f"Note {i}")
        services.reply(desk.ken, ticket, message=f"Message {i}")
        services.set_priority(john, ticket, priority=desk.sev_a if i % 2 == 0 else desk.sev_b)
    services.add_collaborator(john, ticket, user=desk.bill.user)


def test_ticket_page_costs_the_same_queries_with_3_or_30_entries(as_agent, desk, ken_ticket):
    other = services.open_ticket(desk.ken, requester=desk.ken, subject="Other", message="x", topic=desk.general)
    add_activity(desk, ken_ticket, 1)  # 1 + 3 entries
    add_activity(desk, other, 8)  # 1 + 24 entries, 8 events, 8 attachments
    client = as_agent(desk.john)
    assert ticket_page_queries(client, ken_ticket) == ticket_page_queries(client, other)


def test_ticket_page_query_budget(as_agent, desk, ken_ticket, django_assert_max_num_queries):
    add_activity(desk, ken_ticket, 3)
    client = as_agent(desk.john)
    client.get(ticket_url(ken_ticket))
    # +2 for the working-day extras: the requester's other tickets and the reply lock; +4 for
    # the ticket fetched apart from its relations (selectors.ticket_for_agent): visibility, the
    # row, requester, assignee, help topics (the other reference tables the forms read anyway);
    # +1 the ticket's tasks, +1 its answers to custom fields.
    with django_assert_max_num_queries(23):
        client.get(ticket_url(ken_ticket))


def test_image_attachment_opens_inline_and_others_download(as_agent, desk, busy_ticket):
    client = as_agent(desk.john)
    image = client.get(f"/staff/files/{Attachment.objects.get(name='fuser.png').pk}/")
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"].startswith("inline")
    assert image["X-Content-Type-Options"] == "nosniff"
    assert b"".join(image.streaming_content) == PNG

    text = client.get(f"/staff/files/{Attachment.objects.get(name='log.txt').pk}/")
    assert text["Content-Disposition"] == 'attachment; filename="log.txt"'
    assert text["X-Content-Type-Options"] == "nosniff"


def test_svg_is_never_shown_inline(as_agent, desk, ken_ticket):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    services.add_note(desk.john.user, ken_ticket, note="see", uploads=[Upload("x.svg", svg, "image/svg+xml")])
    att = Attachment.objects.get(name="x.svg")
    response = as_agent(desk.john).get(f"/staff/files/{att.pk}/")
    assert response["Content-Disposition"].startswith("attachment")


def test_attachment_of_a_ticket_bill_cannot_see_is_a_404(as_agent, desk, busy_ticket):
    att = Attachment.objects.get(name="log.txt")
    assert as_agent(desk.bill).get(f"/staff/files/{att.pk}/").status_code == 404
    assert as_agent(desk.john).get("/staff/files/999999/").status_code == 404


def test_end_user_cannot_use_the_staff_download(as_agent, desk, busy_ticket):
    att = Attachment.objects.get(name="log.txt")
    assert as_agent(desk.ken).get(f"/staff/files/{att.pk}/").status_code == 403


def test_uploaded_file_names_are_shown_escaped(as_agent, desk, ken_ticket):
    services.add_note(desk.john.user, ken_ticket, note="n", uploads=[Upload("<b>x</b>.txt", b"1", "text/plain")])
    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()
    assert "<b>x</b>" not in html


def test_reply_attachment_upload_is_listed_on_the_page(as_agent, act, desk, ken_ticket):
    as_agent(desk.john)
    files = [SimpleUploadedFile("a.txt", b"aaa", "text/plain"), SimpleUploadedFile("b.pdf", b"%PDF", "application/pdf")]
    response = act(ken_ticket, "reply", message="Logs attached.", attachments=files, follow=True)
    html = response.content.decode()
    block = entry_block(html, "Logs attached.")
    assert ">a.txt</a>" in block and ">b.pdf</a>" in block


def test_a_file_missing_from_storage_is_a_404_not_a_crash(as_agent, desk, busy_ticket):
    att = Attachment.objects.get(name="log.txt")
    att.file.delete(save=False)
    response = as_agent(desk.john).get(f"/staff/files/{att.pk}/")
    assert response.status_code == 404
    assert "missing from the attachment store" in response.content.decode()
