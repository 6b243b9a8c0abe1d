"""The languages the desk speaks, and which one a person reads.

One rule for pages and mail: a person who chose a shipped language reads it; anyone else reads
the desk's default (mail) or what their browser asks for (pages). A stored code the desk no longer
ships (or never did: an import, an old row) counts as no choice.
"""

from __future__ import annotations

from django.conf import settings
from django.conf.locale import LANG_INFO
from django.utils.translation import gettext as _

from tessera.accounts.models import User


def shipped() -> frozenset[str]:
    return frozenset(code for code, _name in settings.LANGUAGES)


def chosen_language(user: User | None) -> str | None:
    """The user's own shipped choice, or None."""
    code = getattr(user, "language", "") or ""
    return code if code in shipped() else None


def language_of(user: User | None) -> str:
    """The language a mail to `user` is written in."""
    return chosen_language(user) or settings.LANGUAGE_CODE


def autonym(code: str) -> str:
    """A language's name in itself ("Deutsch"): the picker must be readable to whoever needs it."""
    info = LANG_INFO.get(code, {})
    return str(info.get("name_local") or info.get("name") or code)


def profile_choices() -> list[tuple[str, str]]:
    """For a profile form: blank first (follow the browser), then each shipped language."""
    return [("", _("As my browser asks")), *((code, autonym(code)) for code, _name in settings.LANGUAGES)]
