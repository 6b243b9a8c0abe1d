"""The picker, the preview and the management list cost the same number of queries with 3 or 30
responses (departments and files come by prefetch), and the ticket page none for them."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tessera.tickets.attachments import Upload

from .conftest import picker_url, render_url, signed_in


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(url)
    assert answer.status_code == 200, answer.content[:300]
    return len(captured)


def grow(desk, make_response, start: int, stop: int) -> None:
    for n in range(start, stop):
        make_response(
            title=f"Answer {n:02}",
            departments=[desk.support, desk.billing] if n % 2 else [],
            uploads=[Upload(f"guide-{n}.txt", b"guide", "text/plain")],
        )


def test_query_counts_do_not_grow_with_the_number_of_responses(desk, ken_ticket, people, make_response):
    grow(desk, make_response, 0, 3)
    mia, john = signed_in(people.mia), signed_in(desk.john)
    from tessera.canned.models import CannedResponse

    first = CannedResponse.objects.order_by("pk").first()
    urls = {
        "list": (mia, reverse("canned:list")),
        "search": (mia, reverse("canned:list") + "?q=Answer"),
        "picker": (john, picker_url(ken_ticket)),
        "picker search": (john, picker_url(ken_ticket, "answer")),
        "preview": (john, render_url(ken_ticket, first)),
        "ticket page": (john, reverse("staff:ticket", args=[ken_ticket.number])),
        "edit": (mia, reverse("canned:edit", args=[first.pk])),
    }
    for client, url in urls.values():
        client.get(url)  # once first: the process memos (help topics' forms, statuses) fill then
    few = {name: queries(client, url) for name, (client, url) in urls.items()}
    grow(desk, make_response, 3, 30)
    many = {name: queries(client, url) for name, (client, url) in urls.items()}
    assert many == few
    # The ticket look-up (with its reference tables) and one query for the responses.
    assert few["picker"] <= 12 and few["preview"] <= 14, few
