"""The search page, /staff/search/?q=…, as an agent uses it."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

SEARCH = "/staff/search/"


def test_results_are_ranked_with_the_matched_words_marked(as_agent, desk, open_ticket):
    open_ticket("Cannot sign in", "Since the printer moved, nothing works.")
    open_ticket("Printer offline", "Floor 3.")

    response = as_agent(desk.john).get(SEARCH, {"q": "printer"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("<mark>Printer</mark> offline") < html.index("Cannot sign in")
    assert "the <mark>printer</mark> moved" in html
    assert "2 tickets match “printer”" in html
    assert 'id="staff-search"' in html and 'value="printer"' in html


def test_a_ticket_number_the_agent_can_see_opens_the_ticket(as_agent, desk, ken_ticket):
    client = as_agent(desk.john)
    for typed in (str(ken_ticket.number), f"#{ken_ticket.number}", f"  # {ken_ticket.number} "):
        response = client.get(SEARCH, {"q": typed})
        assert response.status_code == 302, typed
        assert response["Location"] == f"/staff/tickets/{ken_ticket.number}/"


def test_a_ticket_number_the_agent_cannot_see_reveals_nothing(as_agent, desk, ken_ticket):
    response = as_agent(desk.bill).get(SEARCH, {"q": f"#{ken_ticket.number}"})

    assert response.status_code == 200
    assert "Printer jams" not in response.content.decode()
    assert "No ticket you can see matches" in response.content.decode()


def test_a_number_that_is_no_ticket_is_searched_for_in_the_text(as_agent, desk, open_ticket):
    ticket = open_ticket("Refund for order 7781234", "Order 7781234 arrived broken.")

    response = as_agent(desk.john).get(SEARCH, {"q": "7781234"})

    assert response.status_code == 200
    assert f"#{ticket.number}" in response.content.decode()


def test_queue_filters_narrow_the_search(as_agent, desk, open_ticket, set_state):
    open_ticket("Projector broken", "Room 2.")
    closed = set_state(open_ticket("Projector cable", "Missing HDMI."), "closed")

    response = as_agent(desk.john).get(SEARCH, {"q": "projector", "state": "closed"})

    html = response.content.decode()
    assert "<mark>Projector</mark> cable" in html
    assert "Projector broken" not in html and "<mark>Projector</mark> broken" not in html
    assert f"#{closed.number}" in html
    assert 'name="state" value="closed"' in html  # searching again keeps the filter


def test_a_query_without_words_says_what_to_type(as_agent, desk, ken_ticket):
    response = as_agent(desk.john).get(SEARCH, {"q": '*)("'})

    assert response.status_code == 200
    assert "has no words to search for" in response.content.decode()


def test_markup_typed_into_the_box_is_shown_as_text(as_agent, desk, ken_ticket):
    response = as_agent(desk.john).get(SEARCH, {"q": '<img src=x onerror="alert(1)">jams'})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<img src=x" not in html
    assert "&lt;img src=x" in html


def test_the_page_runs_the_same_queries_for_3_and_30_matching_tickets(as_agent, desk, open_ticket):
    client = as_agent(desk.john)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(SEARCH, {"q": "walrus"})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        open_ticket(f"Walrus {i}", "A walrus sat on the keyboard.")
    few = queries()
    for i in range(27):
        open_ticket(f"Walrus {i + 3}", "Another walrus.")
    assert queries() == few


def test_every_workspace_page_with_queues_offers_the_search_box(as_agent, desk):
    html = as_agent(desk.john).get("/staff/queues/open/").content.decode()

    assert '<label for="staff-search">Search tickets</label>' in html
    assert 'action="/staff/search/"' in html


def test_only_agents_may_search(client, desk):
    response = client.get(SEARCH, {"q": "jams"})
    assert response.status_code == 302 and "/staff/login/" in response["Location"]

    client.force_login(desk.ken)
    assert client.get(SEARCH, {"q": "jams"}).status_code == 403


def test_the_search_page_lists_the_queues_and_leaves_their_counts_to_htmx(as_agent, desk, ken_ticket):
    html = as_agent(desk.john).get(SEARCH, {"q": "jams"}).content.decode()

    assert 'href="/staff/queues/mine/"' in html
    assert 'hx-trigger="load, every' in html
    assert html.count('id="staff-search"') == 1  # the page's own box; the sidebar leaves its out
