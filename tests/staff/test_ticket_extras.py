"""The ticket page for a working day: who is replying, replies that would cross another
agent's, the requester's other tickets, quoted text folded away, image previews, and
previous/next ticket in the queue the agent came from."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tessera.accounts.models import Agent, Membership, Role, User
from tessera.tickets import content, locks, services
from tessera.tickets.attachments import Upload
from tessera.tickets.models import Attachment, EntryKind, ThreadEntry, Ticket, TicketLock
from tessera.tickets.quote_folding import fold_quotes
from tests.tickets.test_content_sanitising import ATTACKS, Markup, assert_safe

from .conftest import flashes, page_version, textarea_value, ticket_url
from .test_ticket_page import PNG, add_activity


@pytest.fixture
def sam(desk):
    """A second Support agent, so two people can answer the same ticket."""
    user = User.objects.create_user("sam@example.com", desk.password, name="Sam Lee")
    agent = Agent.objects.create(user=user)
    Membership.objects.create(
        agent=agent, department=desk.support, role=Role.objects.get(name="Agent"), is_primary=True
    )
    return agent


def lock_url(ticket, what="lock") -> str:
    return f"/staff/tickets/{ticket.number}/{what}/"


def presence_of(client, ticket) -> str:
    response = client.get(lock_url(ticket, "presence"))
    assert response.status_code == 200
    return response.content.decode()


def reply_data(ticket, message: str, *, version: int | None = None, seen: int | None = None, **extra) -> dict:
    ticket.refresh_from_db()
    data = {"reply-message": message, "reply-version": ticket.version if version is None else version}
    if seen is not None:
        data["reply-seen"] = seen
    data.update({f"reply-{k}": v for k, v in extra.items()})
    return data


CONFIRM = {"confirm_cross": 1}


def last_entry_id(html: str) -> int:
    match = re.search(r'name="reply-seen" value="(\d+)"', html)
    assert match, "the reply form does not say which entries it showed"
    return int(match.group(1))


# ---------------------------------------------------------------------------- lock endpoints


def test_starting_a_reply_takes_the_lock_and_says_for_how_long(as_agent, desk, ken_ticket):
    response = as_agent(desk.john).post(lock_url(ken_ticket))
    assert response.status_code == 200
    data = response.json()
    assert data["held"] is True and data["renew_seconds"] == 30
    assert TicketLock.objects.get().agent == desk.john


def test_someone_elses_lock_is_a_409_naming_them(as_agent, client, desk, ken_ticket, sam):
    locks.acquire_lock(desk.john.user, ken_ticket)
    response = as_agent(sam).post(lock_url(ken_ticket))
    assert response.status_code == 409
    assert response.json() == {
        "held": False,
        "holder": "John Doe",
        "message": "John Doe is writing a reply right now.",
    }


def test_unlock_releases_only_my_own_lock(as_agent, client, desk, ken_ticket, sam):
    locks.acquire_lock(desk.john.user, ken_ticket)
    assert as_agent(sam).post(lock_url(ken_ticket, "unlock")).status_code == 204
    assert TicketLock.objects.get().agent == desk.john
    assert as_agent(desk.john).post(lock_url(ken_ticket, "unlock")).status_code == 204
    assert not TicketLock.objects.exists()


def test_lock_endpoints_need_post_a_visible_ticket_and_the_right_to_reply(as_agent, client, desk, ken_ticket):
    john = as_agent(desk.john)
    assert john.get(lock_url(ken_ticket)).status_code == 405
    assert john.get(lock_url(ken_ticket, "unlock")).status_code == 405
    assert john.post("/staff/tickets/999999/lock/").status_code == 404
    assert as_agent(desk.bill).post(lock_url(ken_ticket)).status_code == 404  # not his department
    assert as_agent(desk.bill).get(lock_url(ken_ticket, "presence")).status_code == 404
    refused = as_agent(desk.olga).post(lock_url(ken_ticket))  # an observer cannot reply
    assert refused.status_code == 403
    assert refused.json()["message"] == "You cannot reply to this ticket."
    assert not TicketLock.objects.exists()


def test_lock_endpoints_are_for_signed_in_agents(client, desk, ken_ticket):
    assert client.post(lock_url(ken_ticket)).status_code == 302
    client.force_login(desk.ken)
    assert client.post(lock_url(ken_ticket)).status_code == 403
    assert not TicketLock.objects.exists()


def test_lock_requests_need_the_csrf_token(desk, ken_ticket):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(desk.john.user)
    assert strict.post(lock_url(ken_ticket)).status_code == 403
    page = strict.get(ticket_url(ken_ticket))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert strict.post(lock_url(ken_ticket), HTTP_X_CSRFTOKEN=token).status_code == 200
    # sendBeacon cannot set headers: the release endpoint takes the token from the form body.
    assert strict.post(lock_url(ken_ticket, "unlock"), {"csrfmiddlewaretoken": token}).status_code == 204
    assert not TicketLock.objects.exists()


# ---------------------------------------------------------------------------- presence


def test_presence_shows_the_other_agent_only_while_the_lock_is_fresh(as_agent, client, desk, ken_ticket, sam):
    assert "is replying" not in presence_of(as_agent(sam), ken_ticket)
    lock = locks.acquire_lock(desk.john.user, ken_ticket)
    assert "John Doe is replying" in presence_of(client, ken_ticket)
    TicketLock.objects.filter(pk=lock.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "is replying" not in presence_of(client, ken_ticket)


def test_presence_never_shows_yourself(as_agent, desk, ken_ticket):
    locks.acquire_lock(desk.john.user, ken_ticket)
    assert "is replying" not in presence_of(as_agent(desk.john), ken_ticket)
    assert "is replying" not in as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()


def test_observers_see_who_is_replying_too(as_agent, desk, ken_ticket):
    locks.acquire_lock(desk.john.user, ken_ticket)
    assert "John Doe is replying" in presence_of(as_agent(desk.olga), ken_ticket)


def test_ticket_page_polls_presence_at_the_configured_interval(as_agent, desk, ken_ticket, settings):
    settings.TESSERA = {**settings.TESSERA, "POLL_SECONDS": 1}
    locks.acquire_lock(desk.john.user, ken_ticket)
    html = as_agent(desk.olga).get(ticket_url(ken_ticket)).content.decode()
    region = re.search(r'<div id="presence"[^>]*>.*?</div>', html, re.S).group(0)
    assert f'hx-get="/staff/tickets/{ken_ticket.number}/presence/"' in region
    assert 'hx-trigger="every 1s, refresh"' in region
    assert 'role="status"' in region
    assert "John Doe is replying" in region  # drawn with the page, before the first poll


def test_poll_interval_defaults_to_ten_seconds():
    from django.conf import settings

    assert settings.TESSERA["POLL_SECONDS"] == 10


# ---------------------------------------------------------------------------- crossing replies


def test_reply_over_someone_writing_right_now_asks_for_confirmation(as_agent, client, desk, ken_ticket, sam):
    as_agent(sam)
    seen = last_entry_id(client.get(ticket_url(ken_ticket)).content.decode())
    locks.acquire_lock(desk.john.user, ken_ticket)

    response = client.post(ticket_url(ken_ticket) + "reply/", reply_data(ken_ticket, "Try the other tray.", seen=seen))
    assert response.status_code == 409
    html = response.content.decode()
    assert "John Doe is writing a reply right now." in html
    assert "Not sent yet: someone else is answering this ticket." in html
    assert textarea_value(html, "id_reply-message") == "Try the other tray."
    assert '<input type="hidden" name="reply-confirm_cross" value="1">' in html
    assert ">Send anyway</button>" in html
    assert not ThreadEntry.objects.filter(kind=EntryKind.RESPONSE).exists()

    # "Send anyway" posts it: the lock is advisory.
    response = client.post(
        ticket_url(ken_ticket) + "reply/",
        reply_data(
            ken_ticket, "Try the other tray.", version=page_version(html), seen=last_entry_id(html), confirm_cross=1
        ),
    )
    assert response.status_code == 302
    assert "Reply sent." in flashes(response)
    assert ThreadEntry.objects.get(kind=EntryKind.RESPONSE).author == sam.user


def test_reply_over_a_reply_posted_meanwhile_shows_it_and_asks_for_confirmation(
    as_agent, client, desk, ken_ticket, sam
):
    as_agent(sam)
    loaded = client.get(ticket_url(ken_ticket)).content.decode()
    version, seen = page_version(loaded), last_entry_id(loaded)
    services.reply(desk.john.user, ken_ticket, message="Replaced the **fuser**; try again.")  # meanwhile

    response = client.post(
        ticket_url(ken_ticket) + "reply/", reply_data(ken_ticket, "Try the other tray.", version=version, seen=seen)
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "John Doe replied to this ticket while you were writing." in html
    crossing = re.search(r'<div class="form-error-summary crossing".*?Go to your reply', html, re.S).group(0)
    assert "New reply from John Doe" in crossing
    assert "Replaced the <strong>fuser</strong>; try again." in crossing  # the news, shown
    assert textarea_value(html, "id_reply-message") == "Try the other tray."  # the typing, kept
    assert ">Send anyway</button>" in html
    assert ThreadEntry.objects.filter(kind=EntryKind.RESPONSE).count() == 1

    response = client.post(
        ticket_url(ken_ticket) + "reply/",
        reply_data(
            ken_ticket, "Try the other tray.", version=page_version(html), seen=last_entry_id(html), confirm_cross=1
        ),
    )
    assert response.status_code == 302
    assert list(ThreadEntry.objects.filter(kind=EntryKind.RESPONSE).values_list("author__email", flat=True)) == [
        "john@example.com",
        "sam@example.com",
    ]


def test_send_anyway_still_stops_for_a_reply_newer_than_the_confirmation(as_agent, client, desk, ken_ticket, sam):
    as_agent(sam)
    locks.acquire_lock(desk.john.user, ken_ticket)
    first = client.post(ticket_url(ken_ticket) + "reply/", reply_data(ken_ticket, "Mine.", seen=0)).content.decode()
    services.reply(desk.john.user, ken_ticket, message="John's answer.")  # after the warning
    response = client.post(
        ticket_url(ken_ticket) + "reply/",
        reply_data(ken_ticket, "Mine.", version=page_version(first), seen=last_entry_id(first), confirm_cross=1),
    )
    assert response.status_code == 409
    assert "John Doe replied to this ticket while you were writing." in response.content.decode()


def test_own_replies_and_notes_meanwhile_are_a_plain_stale_form(as_agent, client, desk, ken_ticket, sam):
    as_agent(sam)
    loaded = client.get(ticket_url(ken_ticket)).content.decode()
    services.add_note(desk.john.user, ken_ticket, note="Checking the fuser.")  # a note is not a reply
    response = client.post(
        ticket_url(ken_ticket) + "reply/",
        reply_data(ken_ticket, "Hello", version=page_version(loaded), seen=last_entry_id(loaded)),
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed while you were working on it" in html
    assert ">Send reply</button>" in html and "Send anyway" not in html


def test_my_own_lock_does_not_stop_my_reply_and_sending_releases_it(as_agent, client, desk, ken_ticket):
    as_agent(desk.john)
    client.post(lock_url(ken_ticket))
    response = client.post(ticket_url(ken_ticket) + "reply/", reply_data(ken_ticket, "Done.", seen=0))
    assert response.status_code == 302
    assert not TicketLock.objects.exists()


def test_an_expired_lock_does_not_ask_for_confirmation(as_agent, client, desk, ken_ticket, sam):
    lock = locks.acquire_lock(desk.john.user, ken_ticket)
    TicketLock.objects.filter(pk=lock.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    as_agent(sam)
    response = client.post(ticket_url(ken_ticket) + "reply/", reply_data(ken_ticket, "Hello", seen=0))
    assert response.status_code == 302


def test_notes_are_never_held_back_by_a_reply_lock(as_agent, act, desk, ken_ticket, sam):
    locks.acquire_lock(desk.john.user, ken_ticket)
    as_agent(sam)
    assert act(ken_ticket, "note", note="FYI").status_code == 302


# ---------------------------------------------------------------------------- other tickets from the user


def other_tickets_panel(html: str) -> str:
    match = re.search(r'<details class="card panel tool" id="tool-other-tickets">.*?</details>', html, re.S)
    assert match, "no other-tickets panel"
    return match.group(0)


def open_for_ken(desk, subject: str, topic=None) -> Ticket:
    return services.open_ticket(desk.ken, requester=desk.ken, subject=subject, message="x", topic=topic or desk.general)


def test_other_tickets_lists_the_requesters_visible_tickets_newest_first(as_agent, desk, ken_ticket):
    older = open_for_ken(desk, "Scanner is slow")
    newer = open_for_ken(desk, "Toner low")
    hidden = open_for_ken(desk, "Server down", topic=desk.outage)  # System Administration: not John's
    services.set_status(desk.john.user, older, status=desk.resolved)
    Ticket.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=3))

    panel = other_tickets_panel(as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode())
    assert "Other tickets from Ken Adams" in panel
    assert panel.index("Toner low") < panel.index("Scanner is slow")
    assert f'href="/staff/tickets/{newer.number}/"' in panel
    assert '<span class="badge state-resolved">Resolved</span>' in panel
    assert "Printer jams" not in panel  # not the ticket itself
    assert "Server down" not in panel and str(hidden.number) not in panel
    assert f'href="/staff/queues/all/?user={desk.ken.pk}"' in panel


def test_other_tickets_shows_the_newest_ten(as_agent, desk, ken_ticket):
    for i in range(12):
        open_for_ken(desk, f"Request {i:02d}")
    panel = other_tickets_panel(as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode())
    shown = re.findall(r"Request (\d\d)", panel)
    assert shown == [f"{i:02d}" for i in range(11, 1, -1)]


def test_other_tickets_says_when_there_are_none(as_agent, desk, ken_ticket):
    panel = other_tickets_panel(as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode())
    assert "Ken Adams has no other tickets you can see." in panel


def page_queries(client, url: str, **headers) -> int:
    client.get(url, **headers)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_other_tickets_cost_one_query_however_many_there_are(as_agent, desk, ken_ticket):
    client = as_agent(desk.john)
    open_for_ken(desk, "Only one")
    few = page_queries(client, ticket_url(ken_ticket))
    for i in range(15):
        open_for_ken(desk, f"Request {i}")
    assert page_queries(client, ticket_url(ken_ticket)) == few


# ---------------------------------------------------------------------------- quoted text


def test_quoted_lines_fold_behind_show_quoted_text(as_agent, desk, ken_ticket):
    services.reply(desk.ken, ken_ticket, message="Still jams.\n\n> Have you tried turning it off?\n> And on again?")
    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()
    folded = re.search(r'<details class="quoted">.*?</details>', html, re.S).group(0)
    assert "<summary>" in folded and "Show quoted text" in folded
    assert "Have you tried turning it off?" in folded
    assert "Still jams." not in folded


def test_email_style_gt_lines_fold_too():
    html = "<p>Thanks, that worked.<br>&gt; On Monday John wrote:<br>&gt; try the other tray</p><p>Ken</p>"
    folded = fold_quotes(html)
    assert folded.startswith('<p>Thanks, that worked.</p><details class="quoted">')
    assert "<p>&gt; On Monday John wrote:<br>&gt; try the other tray</p></details><p>Ken</p>" in folded


def test_adjacent_quotes_fold_into_one_and_text_between_them_stays_out():
    html = (
        "<blockquote><p>a</p></blockquote>\n<blockquote><p>b</p></blockquote>\n"
        "<p>mine</p>\n<blockquote><p>c</p></blockquote>"
    )
    folded = fold_quotes(html)
    assert folded.count("<details") == 2
    assert re.search(r"<details[^>]*>.*?<p>a</p>.*?<p>b</p>.*?</details>\s*<p>mine</p>", folded, re.S)


def test_text_without_quotes_is_returned_unchanged():
    for html in ("<p>Plain</p>", "<p>5 &gt; 3 and 2 &lt; 4</p>", "<pre>&gt; not a quote</pre>", ""):
        assert fold_quotes(html) == html


HOSTILE_QUOTES = [
    "<blockquote><img src=x onerror=alert(1)><script>alert(2)</script></blockquote>",
    '<p>&gt; <a href="javascript:alert(1)">x</a><br>&gt; <svg onload=alert(1)></svg></p>',
    '<p><a title="x&gt;<details class=&quot;quoted&quot;>" href="https://e.example">&gt; y</a></p>',
    "<blockquote><details open ontoggle=alert(1)><summary>s</summary></details></blockquote>",
    "<p>&gt; a<br>b</p></blockquote></details><script>alert(1)</script>",
    '<blockquote><blockquote><p style="x:expression(alert(1))">&gt; deep</p></blockquote>',
]


@pytest.mark.parametrize("hostile", HOSTILE_QUOTES + ATTACKS)
def test_folding_hostile_html_never_makes_markup_live(hostile):
    # As stored (sanitised on the way in), and as it might be if a row bypassed the sanitiser.
    for body in (content.from_html(hostile)[0], content.from_text("> " + hostile)[0], hostile):
        folded = fold_quotes(body)
        if folded != body:
            assert_safe(folded)
            assert set(Markup(folded).tags) <= content.ALLOWED_TAGS | {"details", "summary"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["> ", ">", "\n", "text ", "<b>", "</b>", "&gt;", "<br>", "<blockquote>",
                                 "</blockquote>", '"', "'", "<a title='>'>", "<img src=x onerror=alert(1)>",
                                 "<script>", "<details>", "</p>", "<p>"]), max_size=30))  # fmt: skip
def test_folding_any_sanitised_message_is_safe(parts):
    typed = "".join(parts)
    for body in (content.from_text(typed)[0], content.from_html(typed)[0]):
        folded = fold_quotes(body)
        assert_safe(folded)
        assert set(Markup(folded).tags) <= content.ALLOWED_TAGS | {"details", "summary"}


# ---------------------------------------------------------------------------- attachments


def test_image_attachments_show_a_thumbnail_and_other_files_a_link_with_size(as_agent, desk, ken_ticket):
    services.add_note(
        desk.john.user,
        ken_ticket,
        note="Photos and logs.",
        uploads=[
            Upload("jam.png", PNG, "image/png"),
            Upload("log.txt", b"E42" * 100, "text/plain"),
            Upload("evil.svg", b"<svg onload=alert(1)></svg>", "image/svg+xml"),
        ],
    )
    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()
    files = {a.name: a.pk for a in Attachment.objects.all()}
    png, txt, svg = files["jam.png"], files["log.txt"], files["evil.svg"]
    assert f'<img class="thumb" src="/staff/files/{png}/" alt="" loading="lazy">' in html
    assert f'<a href="/staff/files/{png}/">jam.png</a>' in html
    assert f'<a href="/staff/files/{txt}/">log.txt</a> <span class="muted">(300\xa0bytes)</span>' in html
    assert f'src="/staff/files/{txt}/"' not in html
    assert f'src="/staff/files/{svg}/"' not in html  # never shown inline: it could run script
    files_panel = re.search(r'id="tool-files">.*?</details>', html, re.S).group(0)
    assert "3 files" in files_panel and "jam.png" in files_panel and "from John Doe" in files_panel


# ---------------------------------------------------------------------------- previous / next in the queue


def queue_of(desk, n: int) -> list[Ticket]:
    """n open tickets in Support with distinct update times, distinct numbers, some with a due
    date and some assigned, so that each sort gives a different order."""
    now = timezone.now()
    made = []
    for i in range(n):
        t = open_for_ken(desk, f"Ticket {chr(ord('a') + (i * 7) % n)}")
        Ticket.objects.filter(pk=t.pk).update(
            updated_at=now - timedelta(minutes=(i * 5) % n),
            due_at=None if i % 3 == 0 else now + timedelta(hours=(i * 11) % n),
            priority=[desk.sev_a, desk.sev_b, desk.sev_c][i % 3],
            assignee=desk.john if i % 4 == 0 else None,
        )
        made.append(t)
    return made


@pytest.mark.parametrize(
    "sort", ["-updated", "updated", "number", "-number", "subject", "-priority", "due", "-due", "assignee", "user"]
)
def test_previous_and_next_walk_the_queue_in_its_own_order(desk, ken_ticket, sort):
    from tessera.staff.filters import QueueFilter
    from tessera.tickets import selectors
    from tessera.tickets.neighbours import neighbours

    queue_of(desk, 9)
    qf = QueueFilter.from_params({"sort": sort})
    ordered = qf.ordered(qf.apply(selectors.queue_tickets(desk.john, "open")))
    expected = [t.number for t in ordered]
    assert len(expected) == 10
    for i, number in enumerate(expected):
        ticket = selectors.ticket_for_agent(desk.john, number)
        before, after = neighbours(ordered, ticket, {"sort_value": qf.sort_key.expression()})
        assert (before.number if before else None) == (expected[i - 1] if i else None), (sort, i)
        assert (after.number if after else None) == (expected[i + 1] if i + 1 < len(expected) else None), (sort, i)


def nav_of(html: str) -> dict[str, str | None]:
    nav = re.search(r'<nav class="ticket-nav".*?</nav>', html, re.S)
    if nav is None:
        return {}
    block = nav.group(0)
    found = {}
    for rel in ("prev", "next"):
        m = re.search(rf'<a rel="{rel}" href="/staff/tickets/(\d+)/\?from=([^"]+)"', block)
        found[rel] = m.group(1) if m else None
    found["back"] = re.search(r'class="ticket-nav-queue" href="([^"]+)"', block).group(1)
    return found


def test_ticket_opened_from_a_queue_links_to_its_neighbours_there(as_agent, desk, ken_ticket):
    a, b = open_for_ken(desk, "Second"), open_for_ken(desk, "Third")
    client = as_agent(desk.john)
    html = client.get(f"{ticket_url(a)}?from=/staff/queues/open/%3Fsort%3Dnumber").content.decode()
    nav = nav_of(html)
    assert (nav["prev"], nav["next"]) == (str(ken_ticket.number), str(b.number))
    assert nav["back"] == "/staff/queues/open/?sort=number"
    assert "Back to Open in my departments" in html
    assert ">Previous ticket<" in html and ">Next ticket<" in html

    html = client.get(f"{ticket_url(ken_ticket)}?from=/staff/queues/open/%3Fsort%3Dnumber").content.decode()
    assert (nav_of(html)["prev"], nav_of(html)["next"]) == (None, str(a.number))
    assert "First in the queue" in html


def test_the_queue_is_taken_from_the_page_the_ticket_was_clicked_on(as_agent, desk, ken_ticket):
    a, b = open_for_ken(desk, "Second"), open_for_ken(desk, "Third")
    client = as_agent(desk.john)
    html = client.get(ticket_url(a), HTTP_REFERER="http://testserver/staff/queues/open/?sort=-number&before=x").content
    nav = nav_of(html.decode())
    assert (nav["prev"], nav["next"]) == (str(b.number), str(ken_ticket.number))
    assert nav["back"] == "/staff/queues/open/?sort=-number"  # the paging cursor is dropped
    # Another site's page, or a page that is not a queue, is not a queue to walk.
    for referer in ("http://evil.example/staff/queues/open/", "http://testserver/staff/profile/"):
        assert nav_of(client.get(ticket_url(b), HTTP_REFERER=referer).content.decode()) == {}
    assert nav_of(client.get(ticket_url(b), {"from": "https://evil.example/staff/queues/open/"}).content.decode()) == {}


def test_after_replying_next_still_leads_on_down_the_queue(as_agent, act, desk, ken_ticket):
    """Replying moves the ticket to the top of an "updated" queue; Next must not lead back up."""
    now = timezone.now()
    older = open_for_ken(desk, "Older")
    oldest = open_for_ken(desk, "Oldest")
    for minutes, t in ((1, ken_ticket), (2, older), (3, oldest)):
        Ticket.objects.filter(pk=t.pk).update(updated_at=now - timedelta(minutes=minutes))
    client = as_agent(desk.john)
    html = client.get(ticket_url(older), HTTP_REFERER="http://testserver/staff/queues/open/").content.decode()
    assert nav_of(html)["next"] == str(oldest.number)
    response = act(older, "reply", message="Done.", follow=True)  # redirected back without a Referer
    nav = nav_of(response.content.decode())
    assert (nav["prev"], nav["next"]) == (str(ken_ticket.number), str(oldest.number))


def test_a_queue_the_agent_cannot_open_gives_no_navigation(as_agent, desk, ken_ticket):
    client = as_agent(desk.john)
    for origin in ("/staff/queues/nope/", "/staff/queues/saved/999/", "/staff/profile/", "//evil.example/"):
        assert nav_of(client.get(ticket_url(ken_ticket), {"from": origin}).content.decode()) == {}


def test_neighbours_cost_two_queries_and_the_page_stays_constant(as_agent, desk, ken_ticket):
    other = open_for_ken(desk, "Busy one")
    add_activity(desk, ken_ticket, 1)
    add_activity(desk, other, 8)
    client = as_agent(desk.john)
    plain = page_queries(client, ticket_url(ken_ticket))
    url = f"{ticket_url(ken_ticket)}?from=/staff/queues/open/"
    with_nav = page_queries(client, url)
    assert with_nav == plain + 2
    assert page_queries(client, f"{ticket_url(other)}?from=/staff/queues/open/") == with_nav


# ---------------------------------------------------------------------------- keyboard


def test_every_staff_page_offers_the_shortcut_list_without_inline_script(as_agent, desk, ken_ticket):
    client = as_agent(desk.john)
    for url in ("/staff/", "/staff/queues/open/", ticket_url(ken_ticket), "/staff/profile/"):
        html = client.get(url).content.decode()
        assert '<script src="/static/js/shortcuts.js" defer></script>' in html, url
        assert '<dialog id="shortcuts-dialog" class="shortcuts-dialog" aria-labelledby="shortcuts-title"' in html
        assert '<h2 id="shortcuts-title">Keyboard shortcuts</h2>' in html
        assert ">Close</button>" in html
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert " onclick=" not in html and ' style="' not in html
    ticket_page = client.get(ticket_url(ken_ticket)).content.decode()
    assert '<script src="/static/js/ticket.js" defer></script>' in ticket_page
    for key, what in (("r", "Write a reply"), ("n", "Write an internal note"), ("a", "Assign to an agent")):
        assert f"<dt><kbd>{key}</kbd></dt><dd>{what}</dd>" in ticket_page
