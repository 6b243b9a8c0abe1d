"""Changes to people: finding or creating the end user behind an email address."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .models import Organization, User


def end_user_for_email(*, email: str, name: str = "") -> User:
    """The user with this address, created (without a password) when new.

    A new user whose address matches an organisation's domain joins it.
    """
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid email address.")}) from None
    name = (name or "").strip()[:150]
    user = User.objects.filter(email=email).first()
    if user is not None:
        if not user.is_active:
            raise ValidationError({"email": _("This address cannot open tickets. Contact the help desk another way.")})
        if name and not user.name:
            user.name = name
            user.save(update_fields=["name"])
        return user
    domain = email.rsplit("@", 1)[-1]
    org = Organization.objects.filter(domain__iexact=domain).first() if domain else None
    try:
        with transaction.atomic():
            return User.objects.create_user(email, name=name, organization=org)
    except IntegrityError:
        # Two intakes for a new address at once: the other one created it.
        return User.objects.get(email=email)
