"""The mail admin as administrators use it: templates are checked when saved (and what was typed
is kept when they are refused), every page opens for an administrator and none for an agent,
received mail and delivery records cannot be altered, and a mailbox password survives an edit."""

from __future__ import annotations

import hashlib

import pytest

from django.urls import reverse

from tessera.mail.models import (
    BannedSender,
    Channel,
    Delivery,
    EmailTemplate,
    InboundMessage,
    InboundStatus,
    Mailbox,
)

ADD_URL = "/admin/mail/emailtemplate/add/"


@pytest.fixture
def admin_client(client, desk):
    client.force_login(desk.admin)
    return client


@pytest.fixture
def records(desk, ken_ticket):
    """One of each mail record, so every change page has something to show."""
    raw = b"From: Ken <ken@example.com>\r\nMessage-ID: <m1@example.com>\r\nSubject: Printer\r\n\r\nIt jams\r\n"
    return {
        "emailtemplate": EmailTemplate.objects.create(notice="closed", subject="Closed", body="Bye {{ link }}"),
        "mailbox": Mailbox.objects.create(
            name="Support", address="support@example.com", host="127.0.0.1", username="support", password="s3cret!",
            department=desk.support,
        ),
        "bannedsender": BannedSender.objects.create(pattern="spam.example", reason="spam"),
        "inboundmessage": InboundMessage.objects.create(
            dedupe_key="mid:m1@example.com", message_id="m1@example.com", sha256=hashlib.sha256(raw).hexdigest(),
            raw=raw, size=len(raw), channel=Channel.PIPE, sender="ken@example.com", subject="Printer",
            status=InboundStatus.TICKET, reason="Opened the ticket", ticket=ken_ticket,
        ),
        "delivery": Delivery.objects.create(
            ticket=ken_ticket, notice="new_ticket", recipient="ken@example.com", message_id="<d1@example.com>",
            status="failed", attempts=3, last_error="550 mailbox unavailable",
        ),
    }  # fmt: skip


def post_template(client, **data):
    return client.post(ADD_URL, {"notice": "response", "subject": "Re: {{ ticket.subject }}", "body": "x", **data})


# ---------------------------------------------------------------------------- templates checked on save


def test_administrator_rewords_the_agent_reply_with_documented_variables(admin_client):
    response = post_template(admin_client, body="Hello {{ recipient.short_name }},\n{{ entry.body_text }}\n{{ link }}")
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = EmailTemplate.objects.get(notice="response")
    assert saved.body.startswith("Hello {{ recipient.short_name }}")


def test_an_unknown_variable_is_refused_with_the_ones_allowed_and_the_typing_kept(admin_client):
    response = post_template(admin_client, body="Hi {{ recipient.first_name }}\nSee {{ ticket.user.password }}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "“recipient.first_name” is not a variable of this notification" in page
    assert "ticket.user.password" in page and "Line 2" in page
    assert "recipient.short_name, recipient.email" in page  # the allowed ones are listed
    assert "Hi {{ recipient.first_name }}" in page  # what was typed is still in the field
    assert not EmailTemplate.objects.exists()


@pytest.mark.parametrize(
    "body, message",
    [
        ("{% load i18n %}{% translate 'Hi' %}", "{% load %} is not allowed"),
        ("Hi\n{% include 'emails/_entry.html' %}", "Line 2: {% include %} is not allowed"),
        ("{% extends 'emails/_base.html' %}", "{% extends %} is not allowed"),
        ("{% debug %}", "{% debug %} is not allowed"),
        ("{% url 'staff:ticket' 1 %}", "the tag {% url %} is not available"),
    ],
)
def test_tags_that_reach_outside_the_template_are_refused(admin_client, body, message):
    response = post_template(admin_client, body=body)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert not EmailTemplate.objects.exists()


def test_a_syntax_error_is_shown_with_its_line_and_the_typing_kept(admin_client):
    response = post_template(admin_client, body="Hello\n\n{% if is_agent %}agent")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Line 3: Unclosed tag on line 3: &#x27;if&#x27;" in page
    assert "{% if is_agent %}agent" in page
    assert not EmailTemplate.objects.exists()


def test_a_subject_on_two_lines_is_refused(admin_client):
    response = post_template(admin_client, subject="Re: {{ ticket.subject }}\nBcc: everyone@example.com")
    assert response.status_code == 200
    assert "The subject must fit on one line." in response.content.decode()
    assert not EmailTemplate.objects.exists()


def test_variables_of_one_notice_are_refused_in_another(admin_client):
    response = post_template(admin_client, notice="closed", body="{{ entry.body_text }}")
    assert response.status_code == 200
    assert "“entry.body_text” is not a variable of this notification" in response.content.decode()


def test_a_notification_takes_one_wording_per_language_and_one_for_all(admin_client, records):
    page = admin_client.get(ADD_URL).content.decode()
    assert '<option value="response">' in page
    assert '<option value="de">' in page
    # `records` rewords "closed" for all languages: a second such wording is refused, kept as typed.
    response = post_template(admin_client, notice="closed", body="Typed with care")
    assert "already has a wording in this language" in response.content.decode()
    assert "Typed with care" in response.content.decode()
    assert post_template(admin_client, notice="closed", language="de").status_code == 302
    assert sorted(EmailTemplate.objects.filter(notice="closed").values_list("language", flat=True)) == ["", "de"]


def test_the_change_page_shows_the_notices_variables_and_a_preview(admin_client, records):
    template = records["emailtemplate"]
    template.body = "Hello {{ recipient.short_name }}, {{ ticket.reference }} is closed."
    template.save()
    page = admin_client.get(f"/admin/mail/emailtemplate/{template.pk}/change/").content.decode()
    assert "{{ recipient.short_name }}" in page and "docs/email-templates.md" in page
    assert "Hello Ken, #482913 is closed." in page  # rendered with the made-up ticket
    assert 'srcdoc="&lt;!doctype html&gt;' in page  # the HTML version, shown in a sandboxed frame
    assert "&lt;p&gt;Hello Ken, #482913 is closed.&lt;/p&gt;" in page
    assert "{{ entry.body_text }}" not in page  # not a variable of "closed"


def test_editing_a_template_keeps_its_notice_and_checks_the_new_wording(admin_client, records):
    template = records["emailtemplate"]
    url = f"/admin/mail/emailtemplate/{template.pk}/change/"
    response = admin_client.post(url, {"subject": "Closed: {{ ticket.subject }}", "body": "{{ nope }}"})
    assert response.status_code == 200 and "“nope” is not a variable" in response.content.decode()
    response = admin_client.post(url, {"subject": "Closed: {{ ticket.subject }}", "body": "Bye {{ recipient.email }}"})
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.notice, template.body) == ("closed", "Bye {{ recipient.email }}")


def test_the_list_says_which_notifications_still_use_the_built_in_wording(admin_client, records):
    page = admin_client.get("/admin/mail/emailtemplate/").content.decode()
    assert "Still using the built-in wording" in page
    assert "Agent reply" in page and "Transfer alert" in page


# ---------------------------------------------------------------------------- every page, administrators only

MODELS = ["emailtemplate", "mailbox", "bannedsender", "inboundmessage", "delivery"]
EDITABLE = {"emailtemplate", "mailbox", "bannedsender"}


@pytest.mark.parametrize("model", MODELS)
def test_administrator_opens_every_mail_page(admin_client, records, model):
    obj = records[model]
    assert admin_client.get(f"/admin/mail/{model}/").status_code == 200
    assert admin_client.get(f"/admin/mail/{model}/{obj.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/mail/{model}/add/").status_code == (200 if model in EDITABLE else 403)


@pytest.mark.parametrize("model", MODELS)
def test_agents_are_turned_away_from_the_mail_admin(client, desk, records, model):
    client.force_login(desk.john.user)
    for url in (f"/admin/mail/{model}/", f"/admin/mail/{model}/{records[model].pk}/change/"):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]


def test_received_mail_is_listed_with_its_ticket_and_cannot_be_changed(admin_client, records, ken_ticket):
    message = records["inboundmessage"]
    page = admin_client.get("/admin/mail/inboundmessage/").content.decode()
    assert reverse("staff:ticket", args=[ken_ticket.number]) in page and "Opened the ticket" in page
    page = admin_client.get(f"/admin/mail/inboundmessage/{message.pk}/change/").content.decode()
    assert "Message-ID: &lt;m1@example.com&gt;" in page  # the raw message, escaped
    admin_client.post(f"/admin/mail/inboundmessage/{message.pk}/change/", {"subject": "changed"})
    admin_client.post(f"/admin/mail/inboundmessage/{message.pk}/delete/", {"post": "yes"})
    message.refresh_from_db()
    assert message.subject == "Printer"


def test_a_refused_message_is_processed_again_and_a_posted_one_left_alone(admin_client, desk, records):
    raw = (
        b"From: Ken Adams <ken@example.com>\r\nTo: support@example.com\r\nMessage-ID: <m2@example.com>\r\n"
        b"Subject: Monitor flickers\r\nDate: Mon, 2 Mar 2026 09:30:00 +0000\r\n\r\nIt flickers.\r\n"
    )
    refused = InboundMessage.objects.create(
        dedupe_key="mid:m2@example.com", message_id="m2@example.com", sha256=hashlib.sha256(raw).hexdigest(),
        raw=raw, size=len(raw), channel=Channel.IMAP, mailbox=records["mailbox"], sender="ken@example.com",
        subject="Monitor flickers", status=InboundStatus.REJECTED, reason="Banned sender", attempts=1,
    )  # fmt: skip
    posted = records["inboundmessage"]
    response = admin_client.post(
        "/admin/mail/inboundmessage/",
        {"action": "reprocess", "_selected_action": [refused.pk, posted.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "1 message processed again." in page and "1 message was already posted" in page
    refused.refresh_from_db()
    assert refused.status == InboundStatus.TICKET, refused.reason
    assert refused.ticket.subject == "Monitor flickers" and refused.ticket.user == desk.ken
    posted.refresh_from_db()
    assert (posted.status, posted.ticket_id) == (InboundStatus.TICKET, records["delivery"].ticket_id)


def test_failed_deliveries_show_their_error(admin_client, records):
    page = admin_client.get("/admin/mail/delivery/?status=failed").content.decode()
    assert "550 mailbox unavailable" in page and "ken@example.com" in page


# ---------------------------------------------------------------------------- mailboxes and bans


def mailbox_data(desk, **changes):
    data = {
        "name": "Support",
        "address": "support@example.com",
        "host": "imap.example.com",
        "port": "993",
        "security": "tls",
        "username": "support",
        "password": "",
        "folder": "INBOX",
        "archive_folder": "",
        "department": desk.support.pk,
        "topic": "",
        "is_active": "on",
    }
    return {**data, **changes}


def test_mailbox_password_is_never_shown_and_kept_when_left_blank(admin_client, desk, records):
    mailbox = records["mailbox"]
    url = f"/admin/mail/mailbox/{mailbox.pk}/change/"
    assert "s3cret!" not in admin_client.get(url).content.decode()

    response = admin_client.post(url, mailbox_data(desk, host="imap.example.com"))
    assert response.status_code == 302, response.content.decode()[:3000]
    mailbox.refresh_from_db()
    assert (mailbox.host, mailbox.password) == ("imap.example.com", "s3cret!")

    admin_client.post(url, mailbox_data(desk, password="n3w pass"))
    mailbox.refresh_from_db()
    assert mailbox.password == "n3w pass"


def test_banned_senders_are_stored_lower_case_and_checked(admin_client):
    response = admin_client.post("/admin/mail/bannedsender/add/", {"pattern": " Spam@Example.COM ", "reason": "x"})
    assert response.status_code == 302
    assert BannedSender.objects.filter(pattern="spam@example.com").exists()
    response = admin_client.post("/admin/mail/bannedsender/add/", {"pattern": "not a domain", "reason": ""})
    assert response.status_code == 200
    assert "Enter a full address" in response.content.decode()
