"""`manage.py ingest_email`: the MTA pipe. The mail server runs it once per message with the
message on stdin, and reads the exit status (sysexits.h):

- 0: the message is stored, whatever became of it (ticket, reply, event, kept as refused);
- 75 (EX_TEMPFAIL): the database is unavailable; the mail server keeps the message and retries;
- 65 (EX_DATAERR): the input is not an email message at all (its bytes are still stored).

Anything other than 75 tells the mail server the message is dealt with, so nothing else is
ever reported as a failure: the stored row says what happened.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from tessera.mail import ingest
from tessera.mail.models import Channel, InboundMessage, InboundStatus, Mailbox
from tessera.mail.parse import peek

EX_OK = 0
EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = _("Read one email message on standard input and post it (for a mail server's pipe).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--mailbox",
            metavar="NAME",
            help=_("Route new tickets like this configured mailbox (its department and help topic)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read()
        try:
            mailbox = self._mailbox(options.get("mailbox"))
            row = ingest.ingest(raw, channel=Channel.PIPE, mailbox=mailbox)
        except ingest.DATABASE_UNAVAILABLE as exc:
            self.stderr.write(_("The database is unavailable; try again later: %(error)s") % {"error": exc})
            sys.exit(EX_TEMPFAIL)
        if row.status == InboundStatus.REJECTED and not peek(raw).is_message:
            self.stderr.write(_("Not an email message; kept as received message %(pk)d.") % {"pk": row.pk})
            sys.exit(EX_DATAERR)
        if options["verbosity"] >= 2:
            self.stdout.write(self._describe(row))

    def _mailbox(self, name: str | None) -> Mailbox | None:
        if not name:
            return None
        mailbox = Mailbox.objects.filter(name=name).first()
        if mailbox is None:
            # Refusing would bounce the customer's mail over a typo in the mail server's set-up:
            # keep it, routed like mail sent to the desk's own addresses, and say so.
            self.stderr.write(_("There is no mailbox named “%(name)s”; routing as usual.") % {"name": name})
        return mailbox

    def _describe(self, row: InboundMessage) -> str:
        return _("Received message %(pk)d: %(status)s. %(reason)s") % {
            "pk": row.pk,
            "status": row.get_status_display(),
            "reason": row.reason,
        }
