"""Escalation records of breaches long past are forgotten; those that still stop a rule acting
twice on a standing breach are kept; the escalation mail has a name on the ticket's Email panel."""

from __future__ import annotations

from tessera.automation import escalation, pruning
from tessera.automation.models import EscalationRule, EscalationRun, PriorityChange, Trigger
from tessera.mail.outbound import notice_label
from tessera.tickets.models import State, Ticket
from tessera.tickets.services.escalation import ESCALATION_NOTICE

from .test_escalation import on_call  # noqa: F401  (a fixture)


def escalated(at, open_in, subject):
    at("2026-03-02 10:00")
    ticket = open_in(subject=subject)
    at("2026-03-02 12:01")
    assert escalation.run() == 1
    return ticket


def test_old_records_of_closed_tickets_are_pruned_and_open_or_recent_ones_kept(desk, on_call, at, open_in):  # noqa: F811
    EscalationRule.objects.create(name="Late", trigger=Trigger.OVERDUE, priority_change=PriorityChange.STEP)
    standing = escalated(at, open_in, "Still open")
    closed = Ticket.objects.get(pk=escalated(at, open_in, "Closed since").pk)
    Ticket.objects.filter(pk=closed.pk).update(state=State.CLOSED)
    assert EscalationRun.objects.count() == 2

    at("2026-05-30 12:00")  # 89 days on: nothing is old enough yet
    assert pruning.prune_runs() == 0
    at("2026-06-01 12:00")  # 91 days on
    assert pruning.prune_runs() == 1
    assert list(EscalationRun.objects.values_list("ticket_id", flat=True)) == [standing.pk]
    assert escalation.run() == 0  # the open ticket's breach still counts as acted on


def test_the_escalation_alert_has_a_name_not_its_key():
    assert notice_label(ESCALATION_NOTICE) == "Escalation alert"
