"""Merging duplicate tickets into the one that stays, and linking related tickets."""

from __future__ import annotations

import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from tessera.accounts.models import Agent, Membership, Role, User
from tessera.tickets import policy, services
from tessera.tickets.attachments import Upload
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import (
    Attachment,
    Collaborator,
    EntryKind,
    EventKind,
    Referral,
    State,
    ThreadEntry,
    Ticket,
    TicketLink,
)

from .helpers import entries, events, fresh, unchanged


@pytest.fixture
def mia(desk):
    """A Manager in Support: the role that may merge (John's Agent role may not)."""
    user = User.objects.create_user("mia@example.com", desk.password, name="Mia Manager")
    agent = Agent.objects.create(user=user)
    Membership.objects.create(
        agent=agent, department=desk.support, role=Role.objects.get(name="Manager"), is_primary=True
    )
    return user


def open_for(desk, requester, subject, message="Help.", *, topic=None, uploads=()):
    return services.open_ticket(
        requester, requester=requester, subject=subject, message=message, topic=topic or desk.general, uploads=uploads
    )


def backdate(ticket, minutes: int) -> None:
    """Arrangement: make a ticket's first message older, as if it arrived earlier."""
    when = timezone.now() - timedelta(minutes=minutes)
    ThreadEntry.objects.filter(ticket=ticket).update(created_at=when)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=when, last_message_at=when)


@pytest.fixture
def duplicates(desk, ken_ticket, kim):
    """Ken's printer ticket, and Kim's duplicate about the same printer (with a photo, sent earlier)."""
    dup = open_for(
        desk, kim, "Printer on floor 3 jams", "Same here.", uploads=[Upload("jam.png", b"\x89PNG", "image/png")]
    )
    backdate(dup, 30)
    return SimpleNamespace(target=fresh(ken_ticket), source=fresh(dup))


# ---------------------------------------------------------------------------- merge


def test_merge_moves_entries_and_attachments_to_the_surviving_ticket_in_time_order(desk, mia, duplicates):
    target, source = duplicates.target, duplicates.source
    services.reply(desk.john.user, target, message="Looking into it.")

    merged = services.merge(mia, target, sources=[source])

    assert merged.pk == target.pk
    bodies = [e.body_text for e in entries(target)]
    assert bodies == ["Same here.", "It jams on page two.", "Looking into it."]  # Kim's message came first
    assert entries(source) == []
    [photo] = Attachment.objects.filter(entry__ticket=target)
    assert photo.name == "jam.png"
    assert fresh(target).version > target.version


def test_merged_ticket_closes_with_a_pointer_and_an_event_on_both_sides(desk, mia, duplicates):
    target, source = duplicates.target, duplicates.source

    services.merge(mia, target, sources=[source])

    closed = fresh(source)
    assert closed.merged_into_id == target.pk
    assert closed.state == State.CLOSED and closed.status == desk.closed and closed.closed_at is not None
    [on_source] = events(source, EventKind.MERGED)
    [on_target] = events(target, EventKind.MERGED)
    assert event_sentence(on_source) == f"Mia Manager merged #{source.number} into #{target.number}"
    assert event_sentence(on_target) == f"Mia Manager merged #{source.number} into this ticket"
    [status] = events(source, EventKind.STATUS)
    assert (status.before, status.after) == ("Open", "Closed")
    assert fresh(target).state == State.OPEN


def test_the_duplicates_requester_and_collaborators_are_copied_on_the_surviving_ticket(desk, mia, duplicates, kim):
    target, source = duplicates.target, duplicates.source
    lou = User.objects.create_user("lou@example.com", name="Lou")
    services.add_collaborator(desk.john.user, source, user=lou)
    services.add_collaborator(desk.john.user, source, user=desk.ken)  # Ken owns the target already
    services.add_collaborator(desk.john.user, target, user=lou)  # and Lou is already copied there

    services.merge(mia, target, sources=[fresh(source)])

    copied = set(Collaborator.objects.filter(ticket=target).values_list("user__email", flat=True))
    assert copied == {"kim@example.com", "lou@example.com"}
    added = [e.after for e in events(target, EventKind.COLLABORATOR_ADDED)]
    assert added == ["lou@example.com", "kim@example.com"]  # Lou by John earlier, Kim by the merge
    assert policy.can(kim, "view", fresh(target)) and policy.can(kim, "reply", fresh(target))


def test_the_surviving_ticket_is_unanswered_when_the_latest_message_came_from_a_duplicate(desk, mia, ken_ticket, kim):
    services.reply(desk.john.user, ken_ticket, message="Try again now.")
    later = open_for(desk, kim, "Still broken")
    assert fresh(ken_ticket).is_answered

    services.merge(mia, fresh(ken_ticket), sources=[later])

    target = fresh(ken_ticket)
    assert not target.is_answered
    assert target.last_message_at == fresh(later).last_message_at


def test_agents_following_a_duplicate_follow_the_surviving_ticket_and_links_move_along(desk, mia, duplicates):
    target, source = duplicates.target, duplicates.source
    Referral.objects.create(ticket=source, agent=desk.jane)  # Jane follows the duplicate
    elsewhere = open_for(desk, desk.ken, "Toner low")
    services.link(desk.john.user, fresh(source), other=elsewhere)

    services.merge(mia, target, sources=[fresh(source)])

    assert Referral.objects.filter(ticket=target, agent=desk.jane).exists()
    assert policy.can(desk.jane.user, "view", fresh(target))
    low, high = sorted((target.pk, elsewhere.pk))
    assert list(TicketLink.objects.values_list("ticket_id", "other_id")) == [(low, high)]


def test_merging_a_ticket_that_others_were_merged_into_passes_their_pointers_on(desk, mia, duplicates, kim):
    target, source = duplicates.target, duplicates.source
    third = open_for(desk, kim, "Printer again")
    services.merge(mia, source, sources=[third])

    services.merge(mia, target, sources=[fresh(source)])

    assert fresh(third).merged_into_id == target.pk
    assert [e.body_text for e in entries(target)][-1] == "Help."  # third's message ended up here too


def test_several_duplicates_merge_at_once(desk, mia, ken_ticket, kim):
    a, b = open_for(desk, kim, "Dup A"), open_for(desk, kim, "Dup B")

    services.merge(mia, ken_ticket, sources=[b, a, b])

    assert {fresh(a).merged_into_id, fresh(b).merged_into_id} == {ken_ticket.pk}
    assert len(events(ken_ticket, EventKind.MERGED)) == 2
    assert len(entries(ken_ticket)) == 3


def test_merge_refreshes_the_search_documents_of_every_ticket_involved(desk, mia, duplicates, monkeypatch):
    indexed = []
    monkeypatch.setattr(services.merge_and_link, "index_ticket", indexed.append)

    services.merge(mia, duplicates.target, sources=[duplicates.source])

    assert sorted(indexed) == sorted([duplicates.target.pk, duplicates.source.pk])


def test_after_a_merge_search_finds_the_duplicates_words_on_the_surviving_ticket(desk, mia, duplicates):
    from tessera.search.query import search

    def found(text: str) -> list[int]:
        return [hit.ticket.pk for hit in search(desk.john, text)]

    assert found("Same here") == [duplicates.source.pk]

    services.merge(mia, duplicates.target, sources=[duplicates.source])

    assert found("Same here") == [duplicates.target.pk]


def test_an_agent_without_the_merge_permission_cannot_merge(desk, duplicates):
    with pytest.raises(PermissionDenied) as exc, unchanged(duplicates.target), unchanged(duplicates.source):
        services.merge(desk.john.user, duplicates.target, sources=[duplicates.source])
    assert str(exc.value) == f"You cannot merge tickets into #{duplicates.target.number}."


def test_merge_needs_the_permission_on_every_ticket_involved(desk, mia, ken_ticket):
    outage = open_for(desk, desk.ken, "Server down", topic=desk.outage)  # System Administration: Mia is not there
    Referral.objects.create(ticket=outage, agent=mia.agent)  # she follows it: she may see it, not merge it

    with pytest.raises(PermissionDenied) as exc, unchanged(ken_ticket), unchanged(outage):
        services.merge(mia, ken_ticket, sources=[fresh(outage)])
    assert str(exc.value) == f"You cannot merge #{outage.number}."


def test_a_ticket_cannot_be_merged_into_itself(desk, mia, ken_ticket):
    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.merge(mia, ken_ticket, sources=[ken_ticket])
    assert exc.value.messages == ["A ticket cannot be merged into itself."]


def test_an_already_merged_ticket_cannot_be_merged_again(desk, mia, duplicates, kim):
    target, source = duplicates.target, duplicates.source
    services.merge(mia, target, sources=[source])
    other = open_for(desk, kim, "Another")

    with pytest.raises(ValidationError) as exc, unchanged(other):
        services.merge(mia, other, sources=[fresh(source)])
    assert exc.value.messages == [f"#{source.number} is already merged into #{target.number}."]

    with pytest.raises(ValidationError) as exc, unchanged(other):
        services.merge(mia, fresh(source), sources=[other])
    assert exc.value.messages == [
        f"#{source.number} was itself merged into #{target.number}: merge into that ticket instead."
    ]


def test_merge_from_a_stale_page_is_refused(desk, mia, duplicates):
    target = duplicates.target
    services.reply(desk.john.user, target, message="Meanwhile.")

    with pytest.raises(services.StaleTicket), unchanged(duplicates.source):
        services.merge(mia, target, sources=[duplicates.source], expected_version=target.version)


def test_a_merged_ticket_is_read_only_except_notes(desk, mia, duplicates, kim):
    services.merge(mia, duplicates.target, sources=[duplicates.source])
    merged = fresh(duplicates.source)

    assert policy.can(mia, "view", merged) and policy.can(mia, "note", merged)
    for action in ("reply", "status", "close", "assign", "manage", "merge"):
        assert not policy.can(mia, action, merged), action
    assert policy.can(kim, "view", merged)
    assert not policy.can(kim, "reply", merged)
    with pytest.raises(PermissionDenied):
        services.reply(kim, merged, message="Hello?")


@pytest.mark.django_db(transaction=True)
def test_crossing_merges_queue_on_the_row_locks_instead_of_deadlocking(desk, mia, kim):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers with one database lock; row locks are PostgreSQL's")
    a, b, c = (open_for(desk, kim, f"Dup {i}") for i in range(3))
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def merge(target, sources) -> None:
        try:
            start.wait(timeout=10)
            services.merge(mia, target, sources=sources)
            outcomes.append("merged")
        except ValidationError:
            outcomes.append("refused")  # the other merge won: this one's tickets are merged already
        except Exception as exc:  # a deadlock would land here
            outcomes.append(repr(exc))
        finally:
            connection.close()

    workers = [
        threading.Thread(target=merge, args=(a, [b, c])),
        threading.Thread(target=merge, args=(c, [b, a])),
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)

    assert sorted(outcomes) == ["merged", "refused"]
    survivors = Ticket.objects.filter(pk__in=[a.pk, b.pk, c.pk], merged_into__isnull=True)
    assert survivors.count() == 1


# ---------------------------------------------------------------------------- link


def test_linking_shows_on_both_tickets_with_an_event_on_each(desk, ken_ticket, kim):
    other = open_for(desk, kim, "Toner low")

    services.link(desk.john.user, other, other=ken_ticket)

    [row] = TicketLink.objects.all()
    assert (row.ticket_id, row.other_id) == (ken_ticket.pk, other.pk)  # stored once, lower id first
    assert row.created_by == desk.john.user
    [here] = events(other, EventKind.LINKED)
    [there] = events(ken_ticket, EventKind.LINKED)
    assert event_sentence(here) == f"John Doe linked this ticket to #{ken_ticket.number}"
    assert event_sentence(there) == f"John Doe linked this ticket to #{other.number}"
    assert fresh(other).version == other.version + 1


def test_unlinking_removes_the_relation_with_an_event_on_each(desk, ken_ticket, kim):
    other = open_for(desk, kim, "Toner low")
    services.link(desk.john.user, ken_ticket, other=other)

    services.unlink(desk.john.user, fresh(other), other=fresh(ken_ticket))

    assert not TicketLink.objects.exists()
    [here] = events(other, EventKind.UNLINKED)
    [there] = events(ken_ticket, EventKind.UNLINKED)
    assert event_sentence(here) == f"John Doe unlinked this ticket from #{ken_ticket.number}"
    assert event_sentence(there) == f"John Doe unlinked this ticket from #{other.number}"


def test_linking_needs_manage_on_this_ticket_and_only_view_on_the_other(desk, ken_ticket):
    outage = open_for(desk, desk.ken, "Server down", topic=desk.outage)
    # John may link his Support ticket to the outage he can see through a referral...
    Referral.objects.create(ticket=outage, agent=desk.john)
    assert policy.can(desk.john.user, "view", outage) and not policy.can(desk.john.user, "manage", outage)
    services.link(desk.john.user, ken_ticket, other=outage)
    # ...but not the other way round, from the outage he only follows.
    with pytest.raises(PermissionDenied) as exc:
        services.unlink(desk.john.user, fresh(outage), other=fresh(ken_ticket))
    assert str(exc.value) == "You cannot unlink this ticket from others."


def test_an_observer_cannot_link(desk, ken_ticket, kim):
    other = open_for(desk, kim, "Toner low")
    with pytest.raises(PermissionDenied) as exc, unchanged(ken_ticket), unchanged(other):
        services.link(desk.olga.user, ken_ticket, other=other)
    assert str(exc.value) == "You cannot link this ticket to others."


def test_linking_to_a_ticket_you_cannot_see_reads_as_if_it_did_not_exist(desk, ken_ticket):
    invoice = open_for(desk, desk.ken, "Server down", topic=desk.outage)  # System Administration

    with pytest.raises(PermissionDenied) as exc, unchanged(ken_ticket):
        services.link(desk.john.user, ken_ticket, other=invoice)
    assert str(exc.value) == f"Ticket #{invoice.number} does not exist or is not in your departments."


def test_link_refusals_say_why(desk, mia, ken_ticket, kim):
    other = open_for(desk, kim, "Toner low")
    services.link(desk.john.user, ken_ticket, other=other)
    with pytest.raises(ValidationError) as exc:
        services.link(desk.john.user, fresh(other), other=fresh(ken_ticket))
    assert exc.value.messages == [f"#{ken_ticket.number} is already linked to this ticket."]

    with pytest.raises(ValidationError) as exc:
        services.link(desk.john.user, ken_ticket, other=ken_ticket)
    assert exc.value.messages == ["A ticket cannot be linked to itself."]

    with pytest.raises(ValidationError) as exc:
        services.unlink(desk.john.user, ken_ticket, other=open_for(desk, kim, "Unrelated"))
    assert exc.value.messages[0].endswith("is not linked to this ticket.")

    dup = open_for(desk, kim, "Dup")
    services.merge(mia, fresh(other), sources=[dup])
    with pytest.raises(ValidationError) as exc:
        services.link(desk.john.user, fresh(ken_ticket), other=fresh(dup))
    assert exc.value.messages == [f"#{dup.number} was merged into #{other.number}: link that ticket instead."]


def test_entries_keep_their_kind_and_author_when_they_move(desk, mia, duplicates, kim):
    services.add_note(desk.john.user, duplicates.source, note="Kim's floor too.")
    services.merge(mia, duplicates.target, sources=[fresh(duplicates.source)])
    note = ThreadEntry.objects.get(kind=EntryKind.NOTE)
    assert (note.ticket_id, note.author) == (duplicates.target.pk, desk.john.user)
    assert ThreadEntry.objects.get(body_text="Same here.").author == kim
