"""manage.py retry_inbound: process received mail left waiting by a crash or an outage.

Mail is stored before it is processed, so a crash in between leaves it PENDING rather than lost.
IMAP mail is retried by the next poll (it stays unseen), piped mail only if the MTA delivers it
again; run this from cron (every few minutes) so neither depends on that.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from tessera.mail import ingest


class Command(BaseCommand):
    help = _("Process received emails still waiting after a crash or a database outage.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=100, help=_("At most this many messages per run."))

    def handle(self, *args: Any, limit: int, **options: Any) -> None:
        tried = ingest.retry_pending(limit=limit)
        if options["verbosity"] >= 1 and tried:
            self.stdout.write(_("%(count)d waiting messages processed.") % {"count": tried})
