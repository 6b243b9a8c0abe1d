"""Mail's side of ticket notifications: the carrier that takes each notice to a person by email
(and TaskMailCarrier, the same for task alerts).

tessera.tickets.notifications decides who hears about what, and cannot import the mail app (the
core never imports an adapter), so the mail app registers this carrier with it in
MailConfig.ready(). How each message is built, sent, retried and recorded is outbound's job.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.conf import settings
from django.urls import reverse

from tessera.accounts.models import User
from tessera.tasks.models import Task, TaskEntry
from tessera.tickets.models import ThreadEntry, Ticket

from . import outbound
from .message import GuardedEmail

log = logging.getLogger(__name__)


class MailCarrier:
    """tessera.tickets.notifications.Carrier, by email: one Delivery per notice and person."""

    def declines(self, notice: str, ticket: Ticket, entry: ThreadEntry | None) -> bool:
        # Never auto-respond to an auto-responder (see outbound.opened_by_machine).
        if notice == "new_ticket" and outbound.opened_by_machine(ticket, entry):
            log.info("Ticket %s was opened by an automatic message: no acknowledgement sent", ticket.number)
            return True
        return False

    def send(self, notice: str, ticket: Ticket, user: User, entry: ThreadEntry | None, extra: dict[str, Any]) -> bool:
        delivery = outbound.queue(notice, ticket, user, entry)
        if delivery is None:  # one of the desk's own addresses
            return False
        outbound.schedule(delivery, extra)
        return True


class TaskMailCarrier:
    """tessera.tasks.notifications.TaskCarrier, by email: one message per alert and agent.

    A Delivery belongs to a ticket (it is how a reply finds its ticket again) and a task may have
    none, so a task alert is sent from the alert's background task, which fails (and is logged)
    when the server refuses it. It is rendered like the ticket notices (outbound.render: the
    recipient's zone, one-line subject) and goes through the same header guard (GuardedEmail)."""

    def send(self, notice: str, task: Task, user: User, extra: dict[str, Any]) -> bool:
        if user.email.strip().lower() in outbound.own_addresses():
            return False
        message = build_task_message(notice, task, user, extra)
        message.send()
        return True


def build_task_message(notice: str, task: Task, user: User, extra: dict[str, Any]) -> GuardedEmail:
    base = settings.TESSERA["BASE_URL"].rstrip("/")
    entry_id = extra.get("entry_id")
    context = {
        "task": task,
        "recipient": user,
        "link": base + reverse("tasks:task", args=[task.number]),
        "is_agent": True,
        "actor": User.objects.filter(pk=extra["actor_id"]).first() if extra.get("actor_id") else None,
        "entry": TaskEntry.objects.filter(pk=entry_id, task_id=task.pk).first() if entry_id else None,
        "agent_id": extra.get("agent_id"),
        "team_id": extra.get("team_id"),
    }
    subject, text, html = outbound.render(notice, context)
    department = task.department
    default: str = settings.DEFAULT_FROM_EMAIL
    # Not the ticket's "[#n]" form: the subject of a reply would thread it onto ticket n.
    message = GuardedEmail(
        subject=subject,
        body=text,
        from_email=outbound.named_address(department.name, department.email) if department.email else default,
        to=[user.email],
        headers={
            "Message-ID": f"<task-{task.number}-{secrets.token_hex(8)}@{outbound.our_domain()}>",
            "X-Tessera-Task": str(task.number),
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
    message.attach_alternative(html, "text/html")
    return message
