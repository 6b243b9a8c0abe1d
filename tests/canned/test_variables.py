"""Variables in canned responses: filled in for the ticket, refused at save when unknown, never a
template engine, and always text (escaped in the HTML preview)."""

from __future__ import annotations

import json

import pytest

from django.core.exceptions import ValidationError

from tessera.canned import services, variables
from tessera.tickets import access_links

from .conftest import render_url, signed_in


def test_every_built_in_variable_is_filled_in_for_the_ticket(desk, ken_ticket, make_response):
    response = make_response(
        body=(
            "#%{ticket.number} %{ticket.subject} | %{user.name} / %{user.first_name} | %{agent.name} | "
            "%{department.name} | %{ticket.link}"
        )
    )
    text = services.render_for(desk.john.user, ken_ticket, response).text
    parts = [p.strip() for p in text.split("|")]
    assert parts[0] == f"#{ken_ticket.number} Printer jams"
    assert parts[1] == "Ken Adams / Ken"
    assert parts[2] == "John Doe"
    assert parts[3] == "Support"
    # The link is the customer's own: it opens this ticket for Ken on the portal.
    token = parts[4].rstrip("/").rsplit("/", 1)[1]
    assert access_links.resolve_token(token) == (ken_ticket, desk.ken)
    assert "/staff/" not in parts[4]


def test_spaces_inside_the_braces_are_allowed(desk, ken_ticket, make_response):
    response = make_response(body="Ticket %{ ticket.number } for %{user.first_name }.")
    assert services.render_for(desk.john.user, ken_ticket, response).text == f"Ticket {ken_ticket.number} for Ken."


@pytest.mark.parametrize("name", ["ticket.numbr", "user.password", "settings.SECRET_KEY", "ticket.field.order", ""])
def test_an_unknown_variable_is_refused_at_save_naming_it(desk, make_response, name):
    with pytest.raises(ValidationError) as refused:
        make_response(body=f"Your ticket %{{{name}}} is open.")
    [message] = refused.value.message_dict["body"]
    assert f"%{{{name}}}" in message
    assert "Unknown variable" in message


@pytest.mark.parametrize(
    "hostile",
    ["{{ settings.SECRET_KEY }}", "{% load static %}", "{% debug %}", "{{ ticket.user.password }}"],
)
def test_template_syntax_of_other_engines_is_refused_and_never_evaluated(desk, ken_ticket, make_response, hostile):
    with pytest.raises(ValidationError) as refused:
        make_response(body=f"Hi {hostile} there")
    assert hostile[:20] in " ".join(refused.value.message_dict["body"])
    # Even text stored behind the service's back (a row written directly) is only substituted.
    response = make_response(body="placeholder")
    response.body = f"Hi {hostile} %{{user.first_name}}"
    text = services.render_for(desk.john.user, ken_ticket, response).text
    assert text == f"Hi {hostile} Ken"


def test_a_value_that_looks_like_a_variable_is_not_filled_in_again(desk, ken_ticket, make_response):
    ken_ticket.subject = "%{agent.name} {{ settings.SECRET_KEY }}"
    ken_ticket.save(update_fields=["subject"])
    response = make_response(body="Re: %{ticket.subject}")
    text = services.render_for(desk.john.user, ken_ticket, response).text
    assert text == "Re: %{agent.name} {{ settings.SECRET_KEY }}"


def test_markup_in_a_value_is_escaped_in_the_preview_and_plain_in_the_text(desk, ken_ticket, make_response):
    desk.ken.name = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    desk.ken.save()
    response = make_response(body="Hello %{user.name}")
    answer = json.loads(signed_in(desk.john).get(render_url(ken_ticket, response)).content)
    assert answer["text"] == 'Hello <script>alert("x")</script><img src=x onerror=alert(1)>'
    assert "<script" not in answer["html"] and "onerror" not in answer["html"].replace("onerror=alert", "")
    assert "&lt;script&gt;" in answer["html"]
    assert "<img" not in answer["html"]


@pytest.fixture
def custom_fields():
    """A namespace as the custom fields app would register it."""
    stored = {"order": "A-1001", "plan": "<b>Gold</b>"}
    real = {ns.prefix: ns for ns in variables.namespaces()}.get("ticket.field.")
    variables.register_namespace(
        "ticket.field.", label="A custom field's value", is_known=lambda key: key in stored, values=lambda t: stored
    )
    yield stored
    variables.unregister_namespace("ticket.field.")
    if real is not None:
        variables.register_namespace(real.prefix, label=real.label, is_known=real.is_known, values=real.values)


def test_a_registered_namespace_adds_variables_checked_at_save_and_filled_in(
    desk, ken_ticket, make_response, custom_fields
):
    response = make_response(body="Order %{ticket.field.order}, plan %{ticket.field.plan}")
    assert services.render_for(desk.john.user, ken_ticket, response).text == "Order A-1001, plan <b>Gold</b>"
    with pytest.raises(ValidationError) as refused:
        make_response(body="%{ticket.field.colour}")
    assert "%{ticket.field.colour}" in refused.value.message_dict["body"][0]
    assert ("%{ticket.field.<key>}", "A custom field's value") in variables.help_rows()


def test_a_variable_that_no_longer_exists_becomes_empty_never_raw_braces(
    desk, ken_ticket, make_response, custom_fields
):
    response = make_response(body="Order [%{ticket.field.order}]")
    custom_fields.clear()
    assert services.render_for(desk.john.user, ken_ticket, response).text == "Order []"
    variables.unregister_namespace("ticket.field.")
    assert services.render_for(desk.john.user, ken_ticket, response).text == "Order []"


def test_a_variable_missing_its_closing_brace_is_refused_not_sent_as_text(desk, make_response):
    with pytest.raises(ValidationError) as refused:
        make_response(body="Your ticket %{ticket.number is open, %{user.name} (100%{ fine).")
    messages = refused.value.message_dict["body"]
    assert any(m.startswith("“%{ticket.number is open,") and "closing brace" in m for m in messages), messages
    assert any("“%{ fine).”" in m for m in messages), messages
    assert len(messages) == 2
    make_response(body="100% sure, {braces} and %{user.name} are fine.")
