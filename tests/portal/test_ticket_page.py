"""Following a ticket: by the private link from an email, or signed in under My tickets."""

from __future__ import annotations

import pytest

from django.urls import reverse

from tessera.tickets import services
from tessera.tickets.models import EntryKind, State

from .helpers import access_path, assert_accessible_page, page_text


def test_access_link_shows_the_ticket_and_public_replies_but_never_internal_notes(client, desk, ken_ticket):
    john = desk.john.user
    services.reply(john, ken_ticket, message="Try the **rear tray**, please.")
    services.add_note(john, ken_ticket, note="Ken's printer is older than me.")

    response = client.get(access_path(ken_ticket, desk.ken))

    assert response.status_code == 200
    html = page_text(response)
    assert "Printer jams" in html
    assert "#100001" in html
    assert 'class="badge state-open"' in html and "Open" in html
    assert "Support" in html
    assert "It jams on page two." in html
    assert "Try the <strong>rear tray</strong>, please." in html
    assert "John Doe" in html and "Help desk" in html
    assert "older than me" not in html
    assert "note added" not in html
    assert response["Cache-Control"].startswith("max-age=0")
    assert_accessible_page(response)


def test_invalid_access_link_explains_and_points_to_status_page(client, desk, ken_ticket):
    good = access_path(ken_ticket, desk.ken)

    for path in ("/t/not-a-token/", good[:-6] + "xxxxx/"):
        response = client.get(path)
        assert response.status_code == 404
        html = page_text(response)
        assert "This link is not valid" in html
        assert 'href="/status/"' in html


def test_access_link_stops_working_for_someone_no_longer_copied(client, desk, ken_ticket, carol):
    path = access_path(ken_ticket, carol)
    assert client.get(path).status_code == 200

    services.remove_collaborator(desk.john.user, ken_ticket, user=carol)

    assert client.get(path).status_code == 404


def test_reply_through_access_link_adds_a_message_and_reopens_a_resolved_ticket(client, desk, ken_ticket):
    john = desk.john.user
    services.reply(john, ken_ticket, message="Fixed: new rollers.")
    ken_ticket = services.set_status(john, ken_ticket, status=desk.resolved)
    assert ken_ticket.state == State.RESOLVED
    path = access_path(ken_ticket, desk.ken)
    assert "Replying opens this ticket again." in page_text(client.get(path))

    response = client.post(path, {"message": "It jams again on page three.", "version": ken_ticket.version})

    assert response.status_code == 302
    assert response.url == path
    ken_ticket.refresh_from_db()
    assert ken_ticket.state == State.OPEN
    last = ken_ticket.entries.order_by("-id").first()
    assert last.kind == EntryKind.MESSAGE
    assert last.author == desk.ken
    assert "page three" in last.body_text
    after = page_text(client.get(path))
    assert "Your reply was sent and the ticket is open again." in after
    assert "It jams again on page three." in after


def test_empty_reply_comes_back_with_a_message(client, desk, ken_ticket):
    path = access_path(ken_ticket, desk.ken)

    response = client.post(path, {"message": "  ", "version": ken_ticket.version})

    assert response.status_code == 400
    assert "Write a message first." in page_text(response)
    assert ken_ticket.entries.count() == 1


def test_oversized_reply_is_refused_and_kept(client, desk, ken_ticket, settings):
    settings.TESSERA = {**settings.TESSERA, "MAX_MESSAGE_LENGTH": 20}
    path = access_path(ken_ticket, desk.ken)

    response = client.post(path, {"message": "A rather long explanation.", "version": ken_ticket.version})

    assert response.status_code == 400
    html = page_text(response)
    assert "the limit is 20" in html
    assert "A rather long explanation.</textarea>" in html


def test_reply_to_a_ticket_that_changed_meanwhile_shows_the_news_and_keeps_the_text(client, desk, ken_ticket):
    path = access_path(ken_ticket, desk.ken)
    loaded_version = ken_ticket.version
    services.reply(desk.john.user, ken_ticket, message="Is it the tray or the rollers?")

    response = client.post(path, {"message": "It is the tray.", "version": loaded_version})

    assert response.status_code == 400
    html = page_text(response)
    assert "changed while you were working on it" in html
    assert "Is it the tray or the rollers?" in html  # the news
    assert "It is the tray.</textarea>" in html  # the kept text
    ken_ticket.refresh_from_db()
    assert f'name="version" value="{ken_ticket.version}"' in html  # sending again goes through
    assert client.post(path, {"message": "It is the tray.", "version": ken_ticket.version}).status_code == 302


def test_owner_closes_their_ticket(client, desk, ken_ticket):
    path = access_path(ken_ticket, desk.ken)
    assert "Close this ticket" in page_text(client.get(path))

    response = client.post(path, {"action": "close"})

    assert response.status_code == 302
    ken_ticket.refresh_from_db()
    assert ken_ticket.state == State.CLOSED
    after = page_text(client.get(path))
    assert "Ticket #100001 is closed." in after
    assert "Close this ticket" not in after
    assert "Send reply" in after  # a reply still reopens it


def test_collaborator_cannot_close_but_can_reply(client, desk, ken_ticket, carol):
    path = access_path(ken_ticket, carol)
    page = page_text(client.get(path))
    assert "Close this ticket" not in page
    assert "Send reply" in page

    refused = client.post(path, {"action": "close"})

    assert refused.status_code == 403
    assert "You cannot close this ticket." in page_text(refused)
    assert "Only the person who opened a ticket can close it" in page_text(refused)
    ken_ticket.refresh_from_db()
    assert ken_ticket.state == State.OPEN

    assert client.post(path, {"message": "Same here.", "version": ken_ticket.version}).status_code == 302
    assert ken_ticket.entries.filter(author=carol).exists()


def test_archived_ticket_refuses_replies_with_an_explanation(client, desk, ken_ticket):
    from tessera.tickets.models import Status

    archived = Status.objects.get(state=State.ARCHIVED)
    ken_ticket = services.set_status(desk.john.user, ken_ticket, status=archived)
    path = access_path(ken_ticket, desk.ken)
    assert "This ticket can no longer be answered." in page_text(client.get(path))

    response = client.post(path, {"message": "Hello?", "version": ken_ticket.version})

    assert response.status_code == 403
    assert "You cannot reply to this ticket." in page_text(response)


# ---------------------------------------------------------------------------- My tickets


def test_my_tickets_lists_only_my_tickets_newest_first(client, desk, ken_ticket, mary_ticket, carol):
    second = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Scanner offline", message="No network.", topic=desk.general
    )
    client.force_login(desk.ken)

    response = client.get(reverse("portal:my_tickets"))

    assert response.status_code == 200
    html = page_text(response)
    assert "Scanner offline" in html and "Printer jams" in html
    assert html.index("Scanner offline") < html.index("Printer jams")
    assert mary_ticket.subject not in html
    assert second.reference in html and "Open" in html
    assert reverse("portal:ticket", args=[second.number]) in html

    client.force_login(carol)
    copied = page_text(client.get(reverse("portal:my_tickets")))
    assert "Printer jams" in copied and "Copied" in copied
    assert "Scanner offline" not in copied


def test_my_tickets_pages_by_keyset(client, desk, ken_ticket, monkeypatch):
    from tessera.portal import selectors as portal_selectors

    monkeypatch.setattr(portal_selectors, "MY_TICKETS_PAGE_SIZE", 2)
    for subject in ("Second", "Third"):
        services.open_ticket(desk.ken, requester=desk.ken, subject=subject, message="m", topic=desk.general)
    client.force_login(desk.ken)

    first = client.get(reverse("portal:my_tickets"))
    first_html = page_text(first)
    assert "Third" in first_html and "Second" in first_html and "Printer jams" not in first_html
    older = first.context["next_cursor"]

    second = page_text(client.get(reverse("portal:my_tickets"), {"before": older}))
    assert "Printer jams" in second and "Third" not in second
    assert "Older tickets" not in second

    assert "Third" in page_text(client.get(reverse("portal:my_tickets"), {"before": "garbage"}))


def test_my_tickets_needs_sign_in(client, desk):
    response = client.get(reverse("portal:my_tickets"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:login"))


def test_another_users_ticket_number_is_not_found(client, desk, ken_ticket, mary_ticket):
    client.force_login(desk.ken)

    for number in (mary_ticket.number, 999999):
        response = client.get(reverse("portal:ticket", args=[number]))
        assert response.status_code == 404
        assert "We could not find that ticket among yours." in page_text(response)

    refused = client.post(reverse("portal:ticket", args=[mary_ticket.number]), {"action": "close"})
    assert refused.status_code == 404
    mary_ticket.refresh_from_db()
    assert mary_ticket.state == State.OPEN


def test_signed_in_ticket_page_replies_and_closes_like_the_access_link(client, desk, ken_ticket):
    client.force_login(desk.ken)
    path = reverse("portal:ticket", args=[ken_ticket.number])
    page = client.get(path)
    assert page.status_code == 200
    # The page's own template (not the first one rendered: a browser story's last request, still in
    # flight on the live server's thread, may render in the same moment and is recorded too).
    assert "portal/ticket.html" in [template.name for template in page.templates]

    assert client.post(path, {"message": "Any news?", "version": ken_ticket.version}).status_code == 302
    assert client.post(path, {"action": "close"}).status_code == 302

    ken_ticket.refresh_from_db()
    assert ken_ticket.state == State.CLOSED
    assert ken_ticket.entries.filter(kind=EntryKind.MESSAGE, body_text="Any news?").exists()


@pytest.mark.parametrize("url_name", ["home", "status", "login", "password_reset"])
def test_portal_forms_are_labelled_and_csp_clean(client, desk, url_name):
    assert_accessible_page(client.get(reverse(f"portal:{url_name}")))


def test_signed_in_pages_are_labelled_and_csp_clean(client, desk, ken_ticket):
    client.force_login(desk.ken)
    for path in (reverse("portal:my_tickets"), reverse("portal:ticket", args=[ken_ticket.number]), "/"):
        assert_accessible_page(client.get(path))


def _queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx)


def test_ticket_page_queries_do_not_grow_with_the_conversation(client, desk, ken_ticket, carol):
    from tessera.tickets.attachments import Upload

    path = access_path(ken_ticket, carol)
    before = _queries(client, path)
    for n in range(4):
        services.reply(desk.john.user, ken_ticket, message=f"Answer {n}", uploads=[Upload(f"{n}.txt", b"x")])
        services.reply(desk.ken, ken_ticket, message=f"Thanks {n}")

    assert _queries(client, path) == before


def test_my_tickets_queries_do_not_grow_with_the_list(client, desk, ken_ticket):
    client.force_login(desk.ken)
    path = reverse("portal:my_tickets")
    before = _queries(client, path)
    for n in range(5):
        services.open_ticket(desk.ken, requester=desk.ken, subject=f"Issue {n}", message="m", topic=desk.general)

    assert _queries(client, path) == before
