"""A canned response in a reply: offered only where it is shared, previewed for the ticket, its
files attached to the reply, its use counted once the reply is sent."""

from __future__ import annotations

import json

from django.urls import reverse

from tessera.canned import services
from tessera.canned.models import CannedResponse
from tessera.tickets import services as ticket_services
from tessera.tickets.attachments import Upload
from tessera.tickets.models import Attachment, ThreadEntry

from .conftest import picker_url, render_url, signed_in


def reply(client, ticket, **fields):
    ticket.refresh_from_db()
    data = {f"reply-{name}": value for name, value in fields.items()}
    data["reply-version"] = ticket.version
    return client.post(reverse("staff:ticket_action", args=[ticket.number, "reply"]), data)


def test_the_picker_offers_responses_shared_with_the_tickets_department_or_everyone(desk, ken_ticket, make_response):
    make_response(title="Printer tray", departments=[desk.support])
    make_response(title="Greeting")
    make_response(title="Server reboot", departments=[desk.sysadmin])
    make_response(title="Retired printer tray", departments=[desk.support], is_active=False)
    answer = json.loads(signed_in(desk.john).get(picker_url(ken_ticket)).content)
    assert sorted(r["title"] for r in answer["results"]) == ["Greeting", "Printer tray"]
    answer = json.loads(signed_in(desk.john).get(picker_url(ken_ticket, "PRINTER")).content)
    assert [r["title"] for r in answer["results"]] == ["Printer tray"]
    # Titles that match come before responses whose text alone matches.
    answer = json.loads(signed_in(desk.john).get(picker_url(ken_ticket, "tray")).content)
    assert [r["title"] for r in answer["results"]] == ["Printer tray", "Greeting"]


def test_an_agent_of_another_department_can_neither_see_nor_use_it(desk, ken_ticket, make_response):
    support_only = make_response(title="Printer tray", departments=[desk.support])
    bill = signed_in(desk.bill)  # Billing: Ken's Support ticket is not his
    assert bill.get(picker_url(ken_ticket)).status_code == 404
    assert bill.get(render_url(ken_ticket, support_only)).status_code == 404
    # Jane (System Administration) on her own department's ticket: the Support response is not there.
    outage = ticket_services.open_ticket(
        desk.ken, requester=desk.ken, subject="Server down", message="Down.", topic=desk.outage
    )
    jane = signed_in(desk.jane)
    assert json.loads(jane.get(picker_url(outage)).content)["results"] == []
    assert jane.get(render_url(outage, support_only)).status_code == 404
    answer = reply(jane, outage, message="On it.", canned=[support_only.pk])
    assert answer.status_code == 400
    assert not ThreadEntry.objects.filter(ticket=outage, body_text__startswith="On it.").exists()
    assert CannedResponse.objects.get(pk=support_only.pk).usage_count == 0


def test_an_observer_who_cannot_reply_gets_no_picker(desk, ken_ticket, make_response):
    make_response()
    olga = signed_in(desk.olga)
    assert olga.get(picker_url(ken_ticket)).status_code == 404
    assert 'id="canned-picker"' not in olga.get(reverse("staff:ticket", args=[ken_ticket.number])).content.decode()


def test_the_ticket_page_offers_the_picker_to_whoever_replies(desk, ken_ticket):
    html = signed_in(desk.john).get(reverse("staff:ticket", args=[ken_ticket.number])).content.decode()
    assert 'id="canned-picker"' in html and reverse("canned:picker", args=[ken_ticket.number]) in html
    assert "<kbd>i</kbd>" in html  # listed under "?" and on the button


def test_previewing_counts_nothing_sending_counts_once_and_attaches_the_files(desk, ken_ticket, make_response):
    response = make_response(
        departments=[desk.support],
        uploads=[Upload("tray-guide.pdf", b"%PDF-1.4 the guide", "application/pdf")],
    )
    john = signed_in(desk.john)
    preview = json.loads(john.get(render_url(ken_ticket, response)).content)
    assert preview["text"] == "Hello Ken, try the other tray."
    assert preview["html"] == "<p>Hello Ken, try the other tray.</p>\n"
    assert preview["files"] == [{"name": "tray-guide.pdf", "size": "18\xa0bytes"}]
    assert CannedResponse.objects.get(pk=response.pk).usage_count == 0

    answer = reply(john, ken_ticket, message=preview["text"] + " Edited by John.", canned=[response.pk])
    assert answer.status_code == 302, answer.content.decode()[:500]
    entry = ThreadEntry.objects.filter(ticket=ken_ticket).latest("pk")
    assert entry.body_text == "Hello Ken, try the other tray. Edited by John."
    [attached] = Attachment.objects.filter(entry=entry)
    assert attached.name == "tray-guide.pdf"
    with attached.file.open("rb") as handle:
        assert handle.read() == b"%PDF-1.4 the guide"
    assert CannedResponse.objects.get(pk=response.pk).usage_count == 1


def test_usage_is_counted_with_one_atomic_update(desk, make_response):
    first, second = make_response(title="One"), make_response(title="Two")
    stale = CannedResponse.objects.get(pk=first.pk)  # read before the others' uses
    services.count_use([first, second])
    services.count_use([stale])
    assert dict(CannedResponse.objects.values_list("title", "usage_count")) == {"One": 2, "Two": 1}


def test_a_forged_canned_id_is_refused_with_the_reply_kept(desk, ken_ticket):
    answer = reply(signed_in(desk.john), ken_ticket, message="Hello there.", canned=["not-a-number"])
    assert answer.status_code == 400
    assert "Hello there." in answer.content.decode()


def test_a_reply_that_comes_back_keeps_its_canned_files_and_names_them(desk, ken_ticket, make_response):
    response = make_response(
        departments=[desk.support], uploads=[Upload("tray-guide.pdf", b"%PDF-1.4 the guide", "application/pdf")]
    )
    john = signed_in(desk.john)
    answer = reply(john, ken_ticket, message="   ", canned=[response.pk])  # an empty message comes back
    html = answer.content.decode()
    assert answer.status_code == 400
    assert f'<input type="hidden" name="reply-canned" value="{response.pk}">' in html
    assert "Files from “Printer tray” go with this reply: tray-guide.pdf" in html
    assert CannedResponse.objects.get(pk=response.pk).usage_count == 0
