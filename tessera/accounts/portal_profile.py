"""An end user's own Help Center profile: name, language, time zone and password.

Agents keep theirs in the workspace (services.update_agent_profile). Language is only stored
here; the i18n middleware makes it take effect (empty follows the browser).

Tests: tests/portal/test_profile.py.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import User
from .services import _time_zones


def _may_edit(actor: User, user: User) -> None:
    if not actor.is_authenticated or not actor.is_active or actor.pk != user.pk:
        raise PermissionDenied(_("You can only change your own profile."))


def update_profile(actor: User, user: User, *, name: str, language: str, time_zone: str) -> User:
    _may_edit(actor, user)
    errors: dict[str, str] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = _("Tell us your name.")
    elif len(name) > 150:
        errors["name"] = _("Keep your name under 150 characters.")
    if language and language not in dict(settings.LANGUAGES):
        errors["language"] = _("Choose a language from the list.")
    if time_zone and time_zone not in _time_zones():
        errors["time_zone"] = _("Choose a time zone from the list.")
    if errors:
        raise ValidationError(errors)
    user.name, user.language, user.time_zone = name, language, time_zone
    user.save(update_fields=["name", "language", "time_zone"])
    return user


def change_password(actor: User, user: User, *, old_password: str, new_password: str) -> User:
    """The current password is required: a session left open is not enough to take the account."""
    _may_edit(actor, user)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.check_password(old_password):
            raise ValidationError({"old_password": _("That is not your current password.")})
        try:
            validate_password(new_password, user)
        except ValidationError as exc:
            raise ValidationError({"new_password1": exc.messages}) from None
        user.set_password(new_password)
        user.save(update_fields=["password"])
    return user
