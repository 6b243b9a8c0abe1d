"""Opening a ticket: from the portal (the requester themselves) or by an agent on someone's behalf."""

from __future__ import annotations

import pytest

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tessera.accounts.models import Department
from tessera.tickets import services
from tessera.tickets.models import Counter, EntryKind, EventKind, HelpTopic, Source, State, Ticket

from .helpers import entries, events


def open_for_ken(desk, **overrides):
    fields = {
        "requester": desk.ken,
        "subject": "Printer jams",
        "message": "It jams on page two.",
        "topic": desk.general,
    }
    actor = overrides.pop("actor", desk.ken)
    return services.open_ticket(actor, **{**fields, **overrides})


def test_customer_opens_a_ticket_that_lands_open_and_unassigned_in_the_topic_department(desk):
    before = timezone.now()
    ticket = open_for_ken(desk)
    after = timezone.now()

    ticket.refresh_from_db()
    assert ticket.number >= services.FIRST_TICKET_NUMBER
    assert ticket.subject == "Printer jams"
    assert ticket.user == desk.ken
    assert ticket.department == desk.support
    assert ticket.topic == desk.general
    assert ticket.priority == desk.sev_c  # the topic's default priority
    assert (ticket.state, ticket.status) == (State.OPEN, desk.open)
    assert ticket.assignee is None and ticket.team is None
    assert ticket.source == Source.WEB
    assert ticket.version == 1
    assert ticket.is_answered is False
    assert before <= ticket.created_at <= after
    assert ticket.updated_at == ticket.created_at == ticket.last_message_at
    assert ticket.first_response_at is None and ticket.last_response_at is None
    assert ticket.resolved_at is None and ticket.closed_at is None


def test_the_first_message_is_kens_and_the_timeline_says_who_opened_it(desk):
    ticket = open_for_ken(desk)

    [message] = entries(ticket)
    assert message.kind == EntryKind.MESSAGE
    assert message.author == desk.ken and message.author_name == "Ken Adams"
    assert message.body_text == "It jams on page two."
    assert message.body_html.strip() == "<p>It jams on page two.</p>"
    assert message.created_at == ticket.created_at
    [created] = events(ticket)
    assert created.kind == EventKind.CREATED
    assert (created.actor, created.actor_name) == (desk.ken, "Ken Adams")
    assert (created.before, created.after) == ("", "Support")
    assert created.data == {"source": "web"}
    assert created.created_at == ticket.created_at


def test_agent_opens_a_ticket_for_a_caller_who_stays_the_requester(desk):
    ticket = open_for_ken(desk, actor=desk.john.user, source=Source.PHONE)

    assert ticket.user == desk.ken
    assert ticket.source == Source.PHONE
    [message] = entries(ticket)
    assert message.author == desk.ken and message.source == Source.PHONE
    [created] = events(ticket)
    assert created.actor == desk.john.user
    assert created.data == {"source": "phone"}


def test_agent_may_file_under_an_internal_topic_and_it_takes_the_desk_default_priority(desk):
    ticket = open_for_ken(desk, actor=desk.jane.user, topic=desk.internal)

    assert ticket.department == desk.sysadmin
    assert ticket.priority == desk.sev_c  # the internal topic has no default: the desk default applies


def test_an_explicit_priority_wins_over_the_topic_default(desk):
    ticket = open_for_ken(desk, actor=desk.john.user, priority=desk.sev_a)

    assert ticket.priority == desk.sev_a


def test_agent_may_open_straight_into_a_department_without_a_topic(desk):
    ticket = open_for_ken(desk, actor=desk.john.user, topic=None, department=desk.billing)

    assert ticket.department == desk.billing
    assert ticket.topic is None


def test_subject_is_trimmed_to_one_clean_line(desk):
    ticket = open_for_ken(desk, subject="  Printer \n\t jams   again ")

    assert ticket.subject == "Printer jams again"


def test_the_requesters_organisation_is_recorded(desk):
    from tessera.accounts.models import Organization

    desk.ken.organization = Organization.objects.create(name="Adams & Co")
    desk.ken.save()

    ticket = open_for_ken(desk)

    assert ticket.organization == desk.ken.organization


# ---------------------------------------------------------------------------- refusals


def test_customer_cannot_open_a_ticket_in_someone_elses_name(desk, kim):
    with pytest.raises(PermissionDenied):
        open_for_ken(desk, actor=kim)

    assert not Ticket.objects.exists()


def test_visitor_who_is_not_signed_in_cannot_open_a_ticket(desk):
    with pytest.raises(PermissionDenied):
        open_for_ken(desk, actor=AnonymousUser())

    assert not Ticket.objects.exists()


def test_disabled_account_cannot_open_a_ticket(desk):
    desk.ken.is_active = False
    desk.ken.save()

    with pytest.raises(PermissionDenied):
        open_for_ken(desk)

    assert not Ticket.objects.exists()


def test_agent_cannot_open_a_ticket_for_a_disabled_account(desk):
    desk.ken.is_active = False
    desk.ken.save()

    with pytest.raises(ValidationError) as exc:
        open_for_ken(desk, actor=desk.john.user)

    assert "requester" in exc.value.message_dict
    assert not Ticket.objects.exists()


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "subject",
    ["", "   ", "\n\t", "<b></b>", "<script>alert(1)</script>", "x" * 256],
    ids=["empty", "blank", "control characters", "only markup", "only a script", "too long"],
)
def test_ticket_needs_a_real_subject_of_reasonable_length(desk, subject):
    with pytest.raises(ValidationError) as exc:
        open_for_ken(desk, subject=subject)

    assert list(exc.value.message_dict) == ["subject"]
    assert not Ticket.objects.exists()


def test_a_subject_of_exactly_the_limit_is_accepted(desk):
    ticket = open_for_ken(desk, subject="x" * 255)

    assert len(ticket.subject) == 255


@pytest.mark.parametrize("message", ["", "   ", "\n\n"], ids=["empty", "blank", "newlines"])
def test_ticket_needs_a_message(desk, message):
    with pytest.raises(ValidationError) as exc:
        open_for_ken(desk, message=message)

    assert exc.value.message_dict == {"message": ["Write a message first."]}
    assert not Ticket.objects.exists()


def test_oversized_message_is_refused_with_its_length_and_the_limit(desk, settings):
    settings.TESSERA = {**settings.TESSERA, "MAX_MESSAGE_LENGTH": 100}

    with pytest.raises(ValidationError) as exc:
        open_for_ken(desk, message="y" * 101)

    assert exc.value.message_dict == {"message": ["This is 101 characters long; the limit is 100."]}
    assert not Ticket.objects.exists()


def test_every_problem_is_reported_at_once(desk):
    with pytest.raises(ValidationError) as exc:
        open_for_ken(desk, subject="", message="", topic=None)

    assert set(exc.value.message_dict) == {"subject", "message", "topic"}


def test_customer_cannot_choose_an_internal_topic(desk):
    with pytest.raises(ValidationError) as exc:
        open_for_ken(desk, topic=desk.internal)

    assert exc.value.message_dict == {"topic": ["Choose one of the help topics listed."]}
    assert not Ticket.objects.exists()


def test_nobody_can_choose_a_retired_topic(desk):
    HelpTopic.objects.filter(pk=desk.general.pk).update(is_active=False)
    desk.general.refresh_from_db()

    for actor in (desk.ken, desk.john.user):
        with pytest.raises(ValidationError) as exc:
            open_for_ken(desk, actor=actor)
        assert "topic" in exc.value.message_dict
    assert not Ticket.objects.exists()


def test_customer_cannot_route_around_the_topics_into_a_private_department(desk):
    private = Department.objects.create(name="Security", is_public=False)

    with pytest.raises(ValidationError) as exc:
        open_for_ken(desk, topic=None, department=private)
    assert "topic" in exc.value.message_dict

    with pytest.raises(ValidationError):
        open_for_ken(desk, department=desk.sysadmin)  # a public topic, sent to another department

    assert not Ticket.objects.exists()


def test_a_ticket_needs_a_topic_or_a_department(desk):
    with pytest.raises(ValidationError) as exc:
        open_for_ken(desk, actor=desk.john.user, topic=None)

    assert exc.value.message_dict == {"topic": ["Choose a help topic."]}


def test_refused_ticket_does_not_use_up_a_number(desk):
    with pytest.raises(ValidationError):
        open_for_ken(desk, subject="")

    assert not Counter.objects.filter(name="ticket").exclude(value=services.FIRST_TICKET_NUMBER - 1).exists()
    assert open_for_ken(desk).number == services.FIRST_TICKET_NUMBER


def test_a_failure_half_way_leaves_no_ticket_no_message_and_no_number_behind(desk, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services.intake, "_event", explode)  # after the ticket and its message are written

    with pytest.raises(RuntimeError):
        open_for_ken(desk)

    monkeypatch.undo()
    assert not Ticket.objects.exists()
    assert open_for_ken(desk).number == services.FIRST_TICKET_NUMBER


def test_customer_cannot_choose_the_priority_of_their_own_ticket(desk):
    with pytest.raises(ValidationError) as refused:
        services.open_ticket(
            desk.ken, requester=desk.ken, subject="Urgent!!", message="Now.", topic=desk.general, priority=desk.sev_a
        )
    assert "priority" in refused.value.message_dict
    assert not Ticket.objects.exists()


def test_a_guest_gets_an_account_without_password_and_their_ticket(desk):
    from tessera.accounts.models import User

    ticket = services.open_ticket_for_guest(
        email="Nina@Example.org", name="Nina", subject="Wi-Fi", message="Drops hourly.", topic=desk.general
    )
    nina = User.objects.get(email="nina@example.org")
    assert ticket.user == nina
    assert not nina.has_usable_password()


def test_a_refused_guest_ticket_leaves_no_account_behind(desk):
    from tessera.accounts.models import User

    with pytest.raises(ValidationError):
        services.open_ticket_for_guest(
            email="nina@example.org", name="Nina", subject="", message="Drops hourly.", topic=desk.general
        )
    assert not User.objects.filter(email="nina@example.org").exists()
