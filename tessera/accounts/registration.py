"""Signing up on the Help Center: who may, and turning a verified address into an account.

The sign-up form asks for a name and an address only. The address is proved by a signed,
expiring link mailed to it; the password is chosen on the page that link opens, so nothing
secret is kept for an unverified address and the account cannot be used before the address is
proved. A guest (an end user who opened tickets before, without a password) who signs up
becomes that same person, so their earlier tickets are in "My tickets".

Whatever happens, the sign-up page answers the same: `outcome_for` tells the portal which mail
(if any) to send, never what to show.

Tests: tests/portal/test_registration.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tessera.tickets import policy

from .models import User
from .services import end_user_for_email

SIGNUP_SALT = "tessera.portal.signup"


class Outcome(StrEnum):
    VERIFY = "verify"  # a new address or a guest's: mail the verification link
    HAS_ACCOUNT = "has_account"  # already an account: mail "you have one, reset your password here"
    NOTHING = "nothing"  # an agent's, an administrator's or a disabled address: mail nobody


@dataclass(frozen=True)
class SignUp:
    """What a verification link carries (signed; the password is never in it)."""

    email: str
    name: str


def outcome_for(email: str) -> tuple[Outcome, User | None]:
    """What a sign-up with this address leads to, and the account behind it if any."""
    email = email.strip().lower()
    user = User.objects.select_related("agent").filter(email=email).first()
    if user is None:
        return Outcome.VERIFY, None
    if not user.is_active or policy.is_desk_staff(user) or user.agent_or_none is not None:
        # Staff sign in to the workspace; a portal account on their address would let anyone
        # who reads that mailbox act as a customer with the agent's name.
        return Outcome.NOTHING, user
    if user.has_usable_password():
        return Outcome.HAS_ACCOUNT, user
    return Outcome.VERIFY, user


def make_token(email: str, name: str) -> str:
    return signing.TimestampSigner(salt=SIGNUP_SALT).sign_object({"e": email.strip().lower(), "n": name.strip()})


def read_token(token: str) -> SignUp | None:
    """The sign-up a link stands for, or None when it was altered or has expired."""
    max_age = settings.TESSERA["SIGNUP_LINK_HOURS"] * 3600
    try:
        data = signing.TimestampSigner(salt=SIGNUP_SALT).unsign_object(token, max_age=max_age)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), str) or not isinstance(data.get("n"), str):
        return None
    return SignUp(email=data["e"], name=data["n"][:150])


def still_open(signup: SignUp) -> bool:
    """A link works once: after its address has a password (or was given to staff), it is spent."""
    return outcome_for(signup.email)[0] == Outcome.VERIFY


def complete(signup: SignUp, password: str) -> User:
    """Make (or, for a guest, finish) the account the verified link stands for, with its password."""
    with transaction.atomic():
        if not still_open(signup):
            raise ValidationError(_("This link has already been used. Sign in, or reset your password."))
        user = end_user_for_email(email=signup.email, name=signup.name)
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.has_usable_password():  # a second tab finished first
            raise ValidationError(_("This link has already been used. Sign in, or reset your password."))
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"new_password1": exc.messages}) from None
        user.set_password(password)
        fields = ["password"]
        if signup.name and not user.name:
            user.name = signup.name
            fields.append("name")
        user.save(update_fields=fields)
    return user
