"""Signing a reply: none, the agent's own or the department's (the agent's by default; without
one of their own, the department's, and the page says so). The department's signature also ends
the department's automatic mail to customers."""

from __future__ import annotations

import re

import pytest

from django.core.exceptions import ValidationError

from tessera.tickets import services
from tessera.tickets.models import ALERT_DEFAULTS, AlertSetting, ThreadEntry

from .conftest import ticket_url

MINE = "John Doe\nSupport, tier 1"
DEPARTMENT = "The Support team <b>& friends</b>\nhttps://help.example.com"


@pytest.fixture
def signatures(desk):
    desk.john.signature = MINE
    desk.john.save()
    desk.support.signature = DEPARTMENT
    desk.support.save()


def latest_text(ticket) -> str:
    return ThreadEntry.objects.filter(ticket=ticket).latest("pk").body_text


def checked(html: str) -> str:
    match = re.search(r'<input type="radio" name="reply-signature" value="(\w+)"[^>]*checked', html)
    assert match, "no signature chosen on the page"
    return match.group(1)


@pytest.mark.parametrize(
    ("choice", "ending"),
    [("none", "Thanks."), ("agent", f"Thanks.\n\n{MINE}"), ("department", f"Thanks.\n\n{DEPARTMENT}")],
)
def test_a_reply_is_signed_as_the_agent_chooses(as_agent, act, desk, ken_ticket, signatures, choice, ending):
    as_agent(desk.john)
    response = act(ken_ticket, "reply", message="Thanks.", signature=choice)
    assert response.status_code == 302
    assert latest_text(ken_ticket) == ending


def test_the_reply_form_offers_all_three_with_mine_chosen(as_agent, desk, ken_ticket, signatures):
    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()
    assert checked(html) == "agent"
    choice = re.search(r'<fieldset class="signature-choice".*?</fieldset>', html, re.S).group(0)
    labels = [re.sub(r"<[^>]+>", "", label).strip() for label in re.findall(r"<label[^>]*>.*?</label>", choice, re.S)]
    assert labels == ["None", "Mine", "The department&#x27;s (Support)"], choice


def test_without_a_signature_of_their_own_the_department_is_chosen_and_the_page_says_so(
    as_agent, act, desk, ken_ticket
):
    desk.support.signature = DEPARTMENT
    desk.support.save()
    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()
    assert checked(html) == "department"
    assert 'value="agent"' not in html
    assert "You have no signature of your own yet, so the department&#x27;s is chosen." in html


def test_with_no_signature_anywhere_the_reply_is_unsigned_without_a_choice(as_agent, act, desk, ken_ticket):
    client = as_agent(desk.john)
    html = client.get(ticket_url(ken_ticket)).content.decode()
    assert '<input type="hidden" name="reply-signature" value="none">' in html
    assert 'type="radio" name="reply-signature"' not in html
    act(ken_ticket, "reply", message="Plain.", signature="none")
    assert latest_text(ken_ticket) == "Plain."


def test_an_unknown_choice_is_refused(as_agent, act, desk, ken_ticket, signatures):
    as_agent(desk.john)
    assert act(ken_ticket, "reply", message="Thanks.", signature="ceo").status_code == 400
    with pytest.raises(ValidationError):
        services.reply(desk.john.user, ken_ticket, message="x", signature="ceo")


def test_older_callers_still_sign_with_a_yes(desk, ken_ticket, signatures):
    services.reply(desk.john.user, ken_ticket, message="Old style.", append_signature=True)
    assert latest_text(ken_ticket) == f"Old style.\n\n{MINE}"
    services.reply(desk.john.user, ken_ticket, message="Unsigned.")
    assert latest_text(ken_ticket) == "Unsigned."


# ---------------------------------------------------------------------------- the department's mail


@pytest.fixture
def _alert_settings(db):
    for event, groups in ALERT_DEFAULTS.items():
        AlertSetting.objects.get_or_create(event=event, defaults=groups)


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def _html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_the_departments_acknowledgement_ends_with_its_signature(
    desk, signatures, smtp, django_capture_on_commit_callbacks, _alert_settings
):
    with django_capture_on_commit_callbacks(execute=True):
        services.open_ticket(desk.ken, requester=desk.ken, subject="Tray", message="Jams.", topic=desk.general)
    [acknowledgement] = smtp.to("ken@example.com")
    text, html = _text(acknowledgement), _html(acknowledgement)
    assert text.rstrip().endswith(f"-- \n{DEPARTMENT}")
    assert "The Support team &lt;b&gt;&amp; friends&lt;/b&gt;<br>https://help.example.com" in html
    assert "<b>& friends</b>" not in html
    # Agents' alerts about it are not the department's mail to a customer.
    for alert in smtp.to("john@example.com"):
        assert "The Support team" not in _text(alert)


def test_a_signed_reply_is_not_signed_again_by_the_department(
    desk, ken_ticket, signatures, smtp, django_capture_on_commit_callbacks, _alert_settings
):
    smtp.envelopes.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(desk.john.user, ken_ticket, message="Try tray 2.", signature="department")
    [mail] = smtp.to("ken@example.com")
    assert _text(mail).count("The Support team") == 1


def test_a_resolved_notice_is_signed_by_the_department(
    desk, ken_ticket, signatures, smtp, django_capture_on_commit_callbacks, _alert_settings
):
    smtp.envelopes.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.set_status(desk.john.user, ken_ticket, status=desk.resolved)
    [mail] = smtp.to("ken@example.com")
    assert _text(mail).rstrip().endswith(f"-- \n{DEPARTMENT}")
