"""Check a ticket's status: email + number → the private link by email, and a neutral answer."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from django.urls import reverse

from .helpers import assert_accessible_page, comparable, page_text

STATUS = reverse("portal:status")


def test_matching_email_and_number_get_the_access_link_by_email(client, desk, ken_ticket, mailoutbox):
    response = client.post(STATUS, {"email": "Ken@Example.com", "number": "100001"}, follow=True)

    assert response.redirect_chain == [(reverse("portal:status_sent"), 302)]
    assert "If that address has tickets with us" in page_text(response)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["ken@example.com"]
    assert "#100001" in mail.subject
    assert mail.from_email == "Support <support@example.com>"
    html_body = mail.alternatives[0].content
    link = next(word for word in mail.body.split() if "/t/" in word)
    assert link in html_body
    followed = client.get(urlsplit(link).path)
    assert followed.status_code == 200
    assert "Printer jams" in page_text(followed)


def test_number_as_copied_from_the_email_subject_is_understood(client, desk, ken_ticket, mailoutbox):
    client.post(STATUS, {"email": "ken@example.com", "number": " #100001 "})

    assert len(mailoutbox) == 1


def test_collaborator_gets_their_own_link(client, desk, ken_ticket, carol, mailoutbox):
    client.post(STATUS, {"email": "carol@example.com", "number": "100001"})

    assert [m.to for m in mailoutbox] == [["carol@example.com"]]
    link = next(word for word in mailoutbox[0].body.split() if "/t/" in word)
    page = page_text(client.get(urlsplit(link).path))
    assert "Printer jams" in page and "Close this ticket" not in page


@pytest.mark.parametrize(
    ("email", "number"),
    [
        ("ken@example.com", "100002"),  # no such ticket
        ("mary@example.net", "100001"),  # someone else's ticket
        ("nobody@example.org", "100001"),  # unknown address
    ],
)
def test_wrong_pair_gets_the_same_answer_and_no_email(client, desk, ken_ticket, mary, mailoutbox, email, number):
    matching = client.post(STATUS, {"email": "ken@example.com", "number": "100001"}, follow=True)
    mailoutbox.clear()

    wrong = client.post(STATUS, {"email": email, "number": number}, follow=True)

    assert mailoutbox == []
    assert wrong.status_code == matching.status_code == 200
    assert wrong.redirect_chain == matching.redirect_chain
    assert comparable(wrong) == comparable(matching)


def test_malformed_input_says_what_to_fix(client, desk):
    response = client.post(STATUS, {"email": "ken", "number": "printer"})

    assert response.status_code == 400
    html = page_text(response)
    assert "Enter a valid email address." in html
    assert "Enter the ticket number, for example 100001." in html
    assert 'value="printer"' in html
    assert_accessible_page(response)
