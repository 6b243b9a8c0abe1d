"""The API's reply keeps `signature: true/false` and also takes "none", "agent" or "department"."""

from __future__ import annotations

import pytest

from tessera.tickets.models import ThreadEntry

URL = "/api/v1/tickets"


@pytest.fixture
def signatures(desk):
    desk.john.signature = "John, Support"
    desk.john.save()
    desk.support.signature = "The Support team"
    desk.support.save()


@pytest.mark.parametrize(
    ("signature", "ending"),
    [
        (True, "Hi.\n\nJohn, Support"),
        (False, "Hi."),
        ("agent", "Hi.\n\nJohn, Support"),
        ("department", "Hi.\n\nThe Support team"),
        ("none", "Hi."),
    ],
)
def test_a_reply_through_the_api_is_signed_as_asked(api, desk, ken_ticket, signatures, signature, ending):
    response = api.post(f"{URL}/{ken_ticket.number}/reply", {"message": "Hi.", "signature": signature})
    assert response.status_code == 201, response.content
    assert ThreadEntry.objects.get(pk=response.json()["id"]).body_text == ending


def test_an_unknown_signature_is_a_422(api, desk, ken_ticket, signatures):
    response = api.post(f"{URL}/{ken_ticket.number}/reply", {"message": "Hi.", "signature": "ceo"})
    assert response.status_code == 422
