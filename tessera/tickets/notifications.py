"""Who is told what, after a change has been committed.

Services call the functions at the bottom from transaction.on_commit; each one
enqueues the `deliver` task, which works out the recipients from the committed
data and sends one message per recipient (so each gets their own access link).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from tessera.accounts.models import Agent, User

from . import access_links
from .models import EntryKind, State, ThreadEntry, Ticket

log = logging.getLogger(__name__)


@dataclass
class Recipient:
    user: User
    is_agent: bool


def _ticket(ticket_id: int) -> Ticket:
    return Ticket.objects.select_related("user", "department", "status", "priority", "assignee__user", "team").get(
        pk=ticket_id
    )


def _agents_of_department(ticket: Ticket) -> list[User]:
    agents = Agent.objects.filter(
        memberships__department_id=ticket.department_id, is_active=True, user__is_active=True
    ).select_related("user")
    return [a.user for a in agents]


def _followers(ticket: Ticket) -> list[User]:
    """The assignee and the agents who referred the ticket on: they hear about its updates."""
    users = []
    if ticket.assignee_id:
        users.append(ticket.assignee.user)
    users += [r.agent.user for r in ticket.referrals.select_related("agent__user") if r.agent.is_active]
    return users


def _end_users(ticket: Ticket) -> list[User]:
    return [ticket.user] + [c.user for c in ticket.collaborators.select_related("user")]


def _unique(users: list[User], *, exclude: int | None) -> list[User]:
    seen, result = set(), []
    for u in users:
        if u.pk == exclude or u.pk in seen or not u.is_active:
            continue
        seen.add(u.pk)
        result.append(u)
    return result


def _from_address(ticket: Ticket) -> str:
    if ticket.department.email:
        return f"{ticket.department.name} <{ticket.department.email}>"
    return settings.DEFAULT_FROM_EMAIL


def _thread_id(ticket: Ticket) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "tessera.local"
    return f"<ticket-{ticket.number}@{domain}>"


def _send(notice: str, ticket: Ticket, user: User, context: dict) -> None:
    base = settings.TESSERA["BASE_URL"].rstrip("/")
    is_agent = user.is_agent
    link = base + reverse("staff:ticket", args=[ticket.number]) if is_agent else access_links.access_url(ticket, user)
    ctx = {"ticket": ticket, "recipient": user, "link": link, "is_agent": is_agent, **context}
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{notice}_subject.txt", ctx).strip()
        text = render_to_string(f"emails/{notice}.txt", ctx)
        html = render_to_string(f"emails/{notice}.html", ctx)
    root = _thread_id(ticket)
    message = EmailMultiAlternatives(
        subject=f"[{ticket.reference}] {subject}",
        body=text,
        from_email=_from_address(ticket),
        to=[user.email],
        headers={
            "Message-ID": make_msgid(domain=root.rsplit("@", 1)[-1].rstrip(">")),
            "In-Reply-To": root,
            "References": root,
            "X-Tessera-Ticket": str(ticket.number),
            "Auto-Submitted": "auto-generated" if notice.endswith("_alert") else "auto-replied",
        },
    )
    message.attach_alternative(html, "text/html")
    message.send()


@task()
def deliver(notice: str, ticket_id: int, actor_id: int | None, entry_id: int | None = None, extra: dict | None = None):
    """Send one kind of notice about a ticket to everyone who should get it."""
    ticket = _ticket(ticket_id)
    entry = ThreadEntry.objects.select_related("author").filter(pk=entry_id).first() if entry_id else None
    extra = extra or {}
    recipients = _recipients(notice, ticket, actor_id, entry, extra)
    sent = 0
    for user in recipients:
        try:
            _send(notice, ticket, user, {"entry": entry, **extra})
            sent += 1
        except Exception:  # a failed recipient must not stop the others; issue #4 records attempts
            log.exception("Could not send %s for ticket %s to %s", notice, ticket.number, user.email)
    return sent


def _recipients(notice: str, ticket: Ticket, actor_id: int | None, entry, extra: dict) -> list[User]:
    if notice == "new_ticket":
        return _unique([ticket.user], exclude=None)
    if notice == "new_ticket_alert":
        return _unique(_agents_of_department(ticket), exclude=actor_id)
    if notice == "response":
        return _unique(_end_users(ticket), exclude=actor_id)
    if notice == "message_alert":
        pool = _followers(ticket) or (
            [a.user for a in ticket.team.members.filter(is_active=True).select_related("user")]
            if ticket.team_id
            else _agents_of_department(ticket)
        )
        return _unique(pool, exclude=actor_id)
    if notice == "activity_alert":
        return _unique(_followers(ticket), exclude=actor_id)
    if notice == "assigned_alert":
        if extra.get("agent_id"):
            return _unique([Agent.objects.select_related("user").get(pk=extra["agent_id"]).user], exclude=actor_id)
        if extra.get("team_id"):
            team = ticket.team
            return _unique(
                [a.user for a in team.members.filter(is_active=True).select_related("user")], exclude=actor_id
            )
        return []
    if notice == "transfer_alert":
        return _unique(_agents_of_department(ticket), exclude=actor_id)
    if notice in ("resolved", "closed"):
        return _unique([ticket.user], exclude=actor_id)
    raise ValueError(f"unknown notice {notice}")


def _enqueue(notice: str, ticket_id: int, actor_id: int | None, entry_id: int | None = None, **extra) -> None:
    try:
        deliver.enqueue(notice, ticket_id, actor_id, entry_id, extra)
    except Exception:
        # Mail must never undo or break the change that was already committed.
        log.exception("Could not queue %s for ticket %s", notice, ticket_id)


# ---------------------------------------------------------------------------- called by services


def ticket_opened(ticket_id: int, entry_id: int, actor_id: int) -> None:
    _enqueue("new_ticket", ticket_id, None, entry_id)
    _enqueue("new_ticket_alert", ticket_id, actor_id, entry_id)


def entry_posted(ticket_id: int, entry_id: int, actor_id: int) -> None:
    kind = ThreadEntry.objects.values_list("kind", flat=True).get(pk=entry_id)
    if kind == EntryKind.RESPONSE:
        _enqueue("response", ticket_id, actor_id, entry_id)
        _enqueue("activity_alert", ticket_id, actor_id, entry_id)
    elif kind == EntryKind.MESSAGE:
        _enqueue("message_alert", ticket_id, actor_id, entry_id)
    else:
        _enqueue("activity_alert", ticket_id, actor_id, entry_id)


def assigned(ticket_id: int, actor_id: int, agent_id: int | None, team_id: int | None) -> None:
    _enqueue("assigned_alert", ticket_id, actor_id, None, agent_id=agent_id, team_id=team_id)


def transferred(ticket_id: int, actor_id: int) -> None:
    _enqueue("transfer_alert", ticket_id, actor_id)


def status_changed(ticket_id: int, actor_id: int, old_state: str, new_state: str) -> None:
    if new_state == State.RESOLVED:
        _enqueue("resolved", ticket_id, actor_id)
    elif new_state == State.CLOSED:
        _enqueue("closed", ticket_id, actor_id)
    _enqueue("activity_alert", ticket_id, actor_id, None, old_state=old_state, new_state=new_state)
