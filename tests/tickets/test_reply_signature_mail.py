"""An agent's signature reaches the customer once: the reply's entry carries it (services.reply
appends it to the body) and the emails built from that entry must not add a second sign-off.

Read from the real message the SMTP peer received, both alternatives."""

from __future__ import annotations

import pytest

from tessera.tickets import services
from tessera.tickets.models import ALERT_DEFAULTS, AlertSetting

SIGNATURE = "Johnathan Doe-Smythe\nSupport, tier 1 · ext. 4411"
FIRST_LINE, SECOND_LINE = SIGNATURE.split("\n")
SECOND_LINE_HTML = "Support, tier 1 · ext. 4411"


@pytest.fixture(autouse=True)
def _alert_settings(db):
    # A transactional browser test on PostgreSQL may have truncated migration 0007's rows.
    for event, groups in ALERT_DEFAULTS.items():
        AlertSetting.objects.get_or_create(event=event, defaults=groups)


@pytest.fixture
def signed_reply(desk, ken_ticket, smtp, django_capture_on_commit_callbacks):
    """Ken's mail about John's signed reply, as the SMTP peer received it."""
    desk.john.user.name = "Johnathan Doe-Smythe"
    desk.john.user.save()
    desk.john.signature = SIGNATURE
    desk.john.save()
    smtp.envelopes.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(desk.john.user, ken_ticket, message="Try the **other** tray.", append_signature=True)
    [message] = smtp.to("ken@example.com")
    return message


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def test_the_text_part_of_a_signed_reply_carries_the_signature_once(signed_reply):
    text = text_of(signed_reply)
    assert text.count(SIGNATURE) == 1, text
    assert text.count(SECOND_LINE) == 1, text
    assert "\n-- \n" not in text, "a second, template-made sign-off under the signature"
    assert text.index("Try the **other** tray.") < text.index(SIGNATURE)


def test_the_html_part_of_a_signed_reply_carries_the_signature_once(signed_reply):
    html = signed_reply.get_body(preferencelist=("html",)).get_content()
    assert html.count(SECOND_LINE_HTML) == 1, html
    assert html.count(f"{FIRST_LINE}<br>") == 1, html


def test_both_parts_name_the_author_once_above_the_reply(signed_reply):
    text = text_of(signed_reply)
    html = signed_reply.get_body(preferencelist=("html",)).get_content()
    assert text.count("From Johnathan Doe-Smythe") == 1 and "From Johnathan Doe-Smythe" in html
    assert text.index("From Johnathan Doe-Smythe") < text.index("Try the **other** tray.")
