"""A rule that rejects: the sender is told clearly, nothing is lost for the administrator."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from django.core.exceptions import ValidationError
from django.urls import reverse

from tessera.accounts.models import User
from tessera.mail import ingest as inbox
from tessera.mail.models import InboundStatus
from tessera.rules.models import Refusal, Rule
from tessera.tickets import services
from tessera.tickets.models import Ticket

SPAM = [("subject", "contains", "cheap pills")]


@pytest.fixture
def spam_rule(make_rule):
    return make_rule("no spam", SPAM, [("reject", "We do not take advertising.")])


def test_the_service_refuses_with_the_rules_reason_and_keeps_the_submission(spam_rule, desk):
    with pytest.raises(ValidationError, match="We do not take advertising"):
        services.open_ticket(
            desk.ken, requester=desk.ken, subject="Cheap pills here", message="Buy now", topic=desk.general
        )
    assert not Ticket.objects.exists()
    refusal = Refusal.objects.get()
    assert (refusal.rule, refusal.channel, refusal.sender) == (spam_rule, "web", "ken@example.com")
    assert (refusal.subject, refusal.message) == ("Cheap pills here", "Buy now")
    spam_rule.refresh_from_db()
    assert spam_rule.match_count == 1


def test_the_portal_shows_the_refusal_and_keeps_the_form(spam_rule, desk, client):
    form = {
        "name": "Greta Guest",
        "email": "greta@example.org",
        "topic": desk.outage.pk,
        "subject": "Cheap pills for you",
        "message": "Visit our shop.",
    }
    response = client.post(reverse("portal:home"), form)
    assert response.status_code == 400
    html = response.content.decode()
    assert "We do not take advertising." in html
    assert 'value="Cheap pills for you"' in html and "Visit our shop." in html
    assert not Ticket.objects.exists()
    assert not User.objects.filter(email="greta@example.org").exists()  # no half-made account
    assert Refusal.objects.get().sender == "greta@example.org"


def test_a_signed_in_customer_is_refused_the_same_way(spam_rule, desk, client):
    client.force_login(desk.ken)
    response = client.post(
        reverse("portal:home"), {"topic": desk.general.pk, "subject": "cheap pills", "message": "Hi"}
    )
    assert response.status_code == 400
    assert "We do not take advertising." in response.content.decode()
    assert Refusal.objects.get().sender == "ken@example.com"


def _mail(subject: str, to: str = "support@example.com") -> bytes:
    m = EmailMessage()
    m["From"] = "Spammer <spam@bulk.example>"
    m["To"] = to
    m["Subject"] = subject
    m["Message-ID"] = make_msgid(domain="bulk.example")
    m.set_content("Buy now.")
    return m.as_bytes()


def test_email_is_kept_as_refused_with_the_rule_and_reason(spam_rule, desk, mailoutbox):
    row = inbox.ingest(_mail("CHEAP PILLS"), channel="pipe")
    assert row.status == InboundStatus.REJECTED
    assert "no spam" in row.reason and "We do not take advertising." in row.reason
    assert row.raw  # the original is kept
    assert not Ticket.objects.exists()
    assert not User.objects.filter(email="spam@bulk.example").exists()
    assert not mailoutbox
    assert Rule.objects.get().match_count == 1


def test_a_recipient_condition_sees_the_address_the_mail_came_to(make_rule, desk):
    make_rule("billing mail", [("recipient", "equals", "billing@example.com")], [("reject", "")])
    refused = inbox.ingest(_mail("Hello", to="billing@example.com"), channel="pipe")
    taken = inbox.ingest(_mail("Hello again"), channel="pipe")
    assert refused.status == InboundStatus.REJECTED and "billing mail" in refused.reason
    assert taken.status == InboundStatus.TICKET


def test_a_rule_on_the_email_channel_leaves_the_portal_alone(make_rule, desk):
    make_rule("mail only", [("channel", "equals", "email"), ("subject", "contains", "pills")], [("reject", "")])
    ticket = services.open_ticket(desk.ken, requester=desk.ken, subject="pills", message="x", topic=desk.general)
    assert ticket.pk
