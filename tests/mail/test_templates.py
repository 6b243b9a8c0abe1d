"""Administrators reword notifications: their wording replaces the built-in one in the subject,
the text and the HTML people receive; it can only reach the documented variables; and without
one (or with a broken one saved behind the admin's back) the built-in wording still goes out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tessera.mail import templates
from tessera.mail.forms import check_template
from tessera.mail.models import EmailTemplate
from tessera.mail.templates import render_notice
from tessera.tickets import services

MARKER = "-- Reply above this line --"


@pytest.fixture
def answered(desk, ken_ticket):
    """John's reply on Ken's printer ticket, and the context the send path hands to templates."""
    entry = services.reply(desk.john.user, ken_ticket, message="Please try the <b>rear</b> tray.")
    ken_ticket.refresh_from_db()
    context = {
        "ticket": ken_ticket,
        "recipient": desk.ken,
        "link": "https://help.example.com/t/abc/",
        "is_agent": False,
        "entry": entry,
    }
    return ken_ticket, entry, context


def test_without_an_override_the_built_in_wording_applies(answered):
    _ticket, _entry, context = answered
    assert render_notice("response", context) is None


def test_an_override_changes_the_subject_text_and_html(answered):
    ticket, _entry, context = answered
    EmailTemplate.objects.create(
        notice="response",
        subject="Answer on {{ ticket.reference }}: {{ ticket.subject }}",
        body=(
            "Dear {{ recipient.short_name }},\n\n{{ entry.author_name }} answered:\n{{ entry.body_text }}\n\n"
            "Department: {{ ticket.department.name }}, priority {{ ticket.priority.name }}\n{{ link }}"
        ),
    )

    subject, text, html = render_notice("response", context)

    assert subject == f"Answer on #{ticket.number}: Printer jams"
    assert text.startswith("Dear Ken,\n\nJohn Doe answered:\n")
    assert "rear" in text and "Department: Support" in text
    assert "<p>Dear Ken,</p>" in html
    assert '<a href="https://help.example.com/t/abc/"' in html  # links in the text become clickable
    assert f"Ticket #{ticket.number} · Support" in html  # the built-in emails' layout and footer


def test_markup_written_into_a_template_is_shown_as_text_in_the_html_version(answered):
    _ticket, _entry, context = answered
    EmailTemplate.objects.create(
        notice="response", subject="Re: {{ ticket.subject }}", body='<script>alert(1)</script> <a href="x">y</a>'
    )

    _subject, text, html = render_notice("response", context)

    assert text == '<script>alert(1)</script> <a href="x">y</a>'
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="x">' not in html


def test_a_multi_line_subject_arrives_on_one_line(answered):
    _ticket, _entry, context = answered
    EmailTemplate.objects.create(notice="response", subject="{% if is_agent %}A{% else %}\nB {% endif %} x", body=".")
    subject, _text, _html = render_notice("response", context)
    assert subject == "B x"


def test_a_template_reaches_only_documented_variables_even_if_saved_outside_the_admin(answered, desk):
    _ticket, _entry, context = answered
    EmailTemplate.objects.create(
        notice="response",
        subject="{{ ticket.user.password }}{{ recipient.password }}",
        body="[{{ ticket.user.password }}][{{ recipient.is_superuser }}][{{ ticket.entries.all }}][{{ ticket }}]",
    )
    subject, text, _html = render_notice("response", context)
    assert subject == ""
    assert desk.ken.password not in text
    assert text.startswith("[][][]")
    assert "Printer jams" in text  # {{ ticket }} is only the documented values, never the model


def test_a_broken_template_saved_outside_the_admin_falls_back_to_the_built_in_wording(answered, caplog):
    _ticket, _entry, context = answered
    EmailTemplate.objects.create(notice="response", subject="ok", body="{% if %}")
    assert render_notice("response", context) is None
    assert "could not be rendered" in caplog.text


def test_notices_outside_the_registry_are_never_overridden(answered):
    _ticket, _entry, context = answered
    EmailTemplate.objects.create(notice="portal_password_reset", subject="x", body="y")
    assert render_notice("portal_password_reset", context) is None


def test_assignment_alert_tells_a_team_from_a_person(desk, ken_ticket):
    EmailTemplate.objects.create(
        notice="assigned_alert",
        subject=(
            "{% if assigned_to_team %}Your team {{ ticket.team.name }}{% else %}You{% endif %}: {{ ticket.subject }}"
        ),
        body="{{ ticket.assignee.name }}",
    )
    context = {"ticket": ken_ticket, "recipient": desk.john.user, "link": "l", "is_agent": True, "team_id": 7}
    ken_ticket.team = desk.ops
    assert render_notice("assigned_alert", context)[0] == "Your team Infrastructure on-call: Printer jams"
    ken_ticket.assignee = desk.john
    assert render_notice("assigned_alert", {**context, "agent_id": desk.john.pk, "team_id": None})[:2] == (
        "You: Printer jams",
        "John Doe",
    )


def test_every_documented_notice_renders_its_sample_with_every_variable():
    for notice in templates.NOTICES.values():
        body = "\n".join(f"{v.name}={{{{ {v.name} }}}}" for v in notice.all_variables)
        _subject, text, _html = templates.render_strings("s", body, templates.sample_context(notice.key))
        assert "ticket.subject=Printer jams on page two" in text
        assert "recipient.short_name=Ken" in text


def test_kens_email_carries_the_administrators_wording(desk, smtp, settings, django_capture_on_commit_callbacks):
    settings.TESSERA = {**settings.TESSERA, "REPLY_MARKER": MARKER}
    EmailTemplate.objects.create(
        notice="response",
        subject="News about {{ ticket.subject }}",
        body="Hello {{ recipient.short_name }}, {{ entry.author_name }} says:\n\n{{ entry.body_text }}",
    )
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="Hi", topic=desk.general
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(desk.john.user, ticket, message="Try the rear tray.")

    [message] = smtp.wait_for(lambda m: "News about" in m["Subject"])
    assert message["Subject"] == f"[#{ticket.number}] News about Printer jams"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Hello Ken, John Doe says:" in text and "Try the rear tray." in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<p>Hello Ken, John Doe says:</p>" in html


def test_every_example_in_the_documentation_would_be_accepted_by_the_admin():
    docs = (Path(__file__).resolve().parents[2] / templates.DOCS).read_text()
    checked = set()
    for section in re.split(r"^### ", docs, flags=re.M)[1:]:
        found = re.match(r"`(\w+)`", section)
        if not found:
            continue
        notice = found.group(1)
        for block in re.findall(r"```\n(.*?)```", section, flags=re.S):
            subject, _, body = block.partition("\n\n")
            assert subject.startswith("Subject: ")
            assert check_template(subject.removeprefix("Subject: "), notice) == []
            assert check_template(body, notice) == [], notice
            checked.add(notice)
    assert checked == set(templates.NOTICES)
