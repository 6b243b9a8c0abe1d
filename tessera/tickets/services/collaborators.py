"""Who is copied on a ticket: added and removed by agents (by account or by address), or copied
by the mail intake.

Tests: tests/tickets/test_collaborators.py.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.accounts.services import end_user_for_email

from ..models import Collaborator, EventKind, Ticket
from ..policy import Action
from .common import _event, _lock, _require, _touch


def add_collaborator(actor: User, ticket: Ticket, *, user: User) -> Collaborator:
    denied = _("You cannot change who is copied on this ticket.")
    _require(actor, Action.MANAGE, ticket, denied)
    if user.pk == ticket.user_id:
        raise ValidationError({"email": _("%(name)s opened this ticket.") % {"name": user.display_name}})
    if not user.is_active:
        raise ValidationError({"email": _("%(name)s's account is disabled.") % {"name": user.display_name}})
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, None, actor=actor, action=Action.MANAGE, message=denied)
        collab, created = Collaborator.objects.get_or_create(ticket=ticket, user=user, defaults={"created_at": now})
        if not created:
            raise ValidationError({"email": _("%(name)s is already copied.") % {"name": user.display_name}})
        _event(ticket, actor, EventKind.COLLABORATOR_ADDED, "", user.email, now=now, user_id=user.pk)
        _touch(ticket, now)
    return collab


def add_collaborator_by_email(actor: User, ticket: Ticket, *, email: str) -> Collaborator:
    """Copy whoever has this address on the ticket, making them an end-user account if they
    have none yet (the workspace's "Copy someone" field takes an address, not an account).

    One transaction: when the ticket refuses them (add_collaborator asks policy and checks the
    person), the account found or created for the address is rolled back with it, so a refused
    address leaves nobody behind."""
    with transaction.atomic():
        user = end_user_for_email(email=email)
        return add_collaborator(actor, ticket, user=user)


def copy_mail_sender(ticket: Ticket, *, user: User) -> Collaborator:
    """Copy someone who wrote to the ticket by email on it, as the desk (no acting person).

    Only the mail intake calls this, and only when the ticket's department lets people who
    answer a ticket's mail join it (Department.unknown_senders): whoever the requester wrote to
    and who answered belongs in the conversation. The event says the system did it."""
    if not user.is_active:
        raise ValidationError({"email": _("%(name)s's account is disabled.") % {"name": user.display_name}})
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if user.pk == ticket.user_id:
            raise ValidationError({"email": _("%(name)s opened this ticket.") % {"name": user.display_name}})
        collab, created = Collaborator.objects.get_or_create(ticket=ticket, user=user, defaults={"created_at": now})
        if created:
            _event(ticket, None, EventKind.COLLABORATOR_ADDED, "", user.email, now=now, user_id=user.pk, by="email")
            _touch(ticket, now)
    return collab


def remove_collaborator(actor: User, ticket: Ticket, *, user: User) -> None:
    denied = _("You cannot change who is copied on this ticket.")
    _require(actor, Action.MANAGE, ticket, denied)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, None, actor=actor, action=Action.MANAGE, message=denied)
        deleted, _rows = Collaborator.objects.filter(ticket=ticket, user=user).delete()
        if not deleted:
            raise ValidationError({"email": _("%(name)s is not copied on this ticket.") % {"name": user.display_name}})
        _event(ticket, actor, EventKind.COLLABORATOR_REMOVED, user.email, "", now=now, user_id=user.pk)
        _touch(ticket, now)
