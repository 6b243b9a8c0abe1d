"""System checks for settings whose mistakes only show in production, as dead links in mail.

`manage.py check` (and so `migrate` and `runserver`) prints these, so an operator learns about a
base URL the desk would refuse before a customer clicks a link that answers 400.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage
from django.core.checks import Warning as CheckWarning
from django.http.request import validate_host
from django.utils.translation import gettext as _


def base_url_is_served(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    url = settings.TESSERA["BASE_URL"]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            CheckWarning(
                _("TESSERA_BASE_URL %(url)r is not an absolute http(s) address.") % {"url": url},
                hint=_(
                    "Links in mail are built from it; set it to the address people open, e.g. https://help.example.com."
                ),
                id="tessera.W001",
            )
        ]
    if not validate_host(parts.hostname, settings.ALLOWED_HOSTS):
        return [
            CheckWarning(
                _("The host of TESSERA_BASE_URL (%(host)s) is not in ALLOWED_HOSTS, so links in mail would answer 400.")
                % {"host": parts.hostname},
                hint=_("Add %(host)s to ALLOWED_HOSTS, or correct TESSERA_BASE_URL.") % {"host": parts.hostname},
                id="tessera.W002",
            )
        ]
    return []
