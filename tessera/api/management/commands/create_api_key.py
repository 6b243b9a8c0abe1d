"""`manage.py create_api_key`: a key for a script, printed once and alone on standard output.

Standard output carries the secret and nothing else, so `KEY=$(manage.py create_api_key …)`
captures exactly the key; every explanation and error goes to standard error.
"""

from __future__ import annotations

import argparse
from datetime import datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from tessera.accounts.models import Agent
from tessera.api import keys
from tessera.api.models import Scope


def parse_expiry(value: str) -> datetime:
    """An ISO date (the key stops working when that day starts, in the desk's time zone) or an
    ISO date and time (without a zone: the desk's)."""
    text = (value or "").strip()
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            if day is None:
                raise ValueError(text)
            moment = datetime.combine(day, time.min)
    except ValueError:
        raise CommandError(
            _("--expires: “%(value)s” is not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM).")
            % {"value": value}
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _agent(email: str) -> Agent:
    agent = Agent.objects.select_related("user").filter(user__email__iexact=email.strip()).first()
    if agent is None:
        raise CommandError(_("--agent: no agent has the address “%(email)s”.") % {"email": email})
    if not (agent.is_active and agent.user.is_active):
        raise CommandError(_("--agent: the agent “%(email)s” is disabled.") % {"email": email})
    return agent


def _rate_limit(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(_("give a whole number of requests per minute (0: no limit)")) from None
    if number < 0:
        raise argparse.ArgumentTypeError(_("give a whole number of requests per minute (0: no limit)"))
    return number


def _messages(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return " ".join(str(m) for messages in error.message_dict.values() for m in messages)
    return " ".join(str(m) for m in error.messages)


class Command(BaseCommand):
    help = "Create an API key and print it once (and nothing else) on standard output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="A name that says who uses the key, unique.")
        parser.add_argument("--agent", metavar="EMAIL", help="The agent the key acts as (default: a system key).")
        parser.add_argument(
            "--ip",
            metavar="ADDRESS_OR_CIDR",
            nargs="+",
            action="extend",
            default=[],
            help="Addresses or CIDR ranges the key may be used from (default: any).",
        )
        parser.add_argument(
            "--scope",
            nargs="+",
            action="extend",
            default=[],
            help=f"What the key may do: {', '.join(Scope.values)}.",
        )
        parser.add_argument("--expires", metavar="DATE", help="YYYY-MM-DD or YYYY-MM-DDTHH:MM (default: never).")
        parser.add_argument(
            "--rate-limit", metavar="N", type=_rate_limit, help="Requests per minute (0: no limit; default 600)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        agent = _agent(options["agent"]) if options.get("agent") else None
        expires_at = parse_expiry(options["expires"]) if options.get("expires") else None
        try:
            key, raw = keys.issue_key(
                name=options["name"],
                created_by=None,
                agent=agent,
                scopes=options["scope"],
                allowed_ips=options["ip"],
                expires_at=expires_at,
                rate_limit=options.get("rate_limit"),
            )
        except ValidationError as error:
            raise CommandError(_messages(error)) from None
        self.stderr.write(
            _("Created API key “%(name)s” (starts with %(prefix)s). It is shown once; keep it now.")
            % {"name": key.name, "prefix": key.prefix}
        )
        self.stdout.write(raw)
