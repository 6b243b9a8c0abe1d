"""Secure links that let an end user follow a ticket without a password.

The token is a signature over (ticket, user), so it needs no table and cannot be
forged; it stops working when the user is no longer a party to the ticket. It carries
no timestamp, so every email about a ticket gives its reader the same link.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from tessera.accounts.models import User

from .models import Ticket

_SALT = "tessera.tickets.access-link"


def make_token(ticket: Ticket, user: User) -> str:
    return signing.Signer(salt=_SALT).sign_object([ticket.pk, user.pk], compress=True)


def resolve_token(token: str) -> tuple[Ticket, User] | None:
    try:
        ticket_id, user_id = signing.Signer(salt=_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    ticket = Ticket.objects.select_related("status", "priority", "department", "user").filter(pk=ticket_id).first()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if ticket is None or user is None:
        return None
    if ticket.user_id != user.pk and not ticket.collaborators.filter(user=user).exists():
        return None
    return ticket, user


def access_url(ticket: Ticket, user: User) -> str:
    base: str = settings.TESSERA["BASE_URL"].rstrip("/")
    return base + reverse("portal:access", args=[make_token(ticket, user)])
