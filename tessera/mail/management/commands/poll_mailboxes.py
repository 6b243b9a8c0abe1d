"""`manage.py poll_mailboxes`: take new mail from every active IMAP mailbox into the desk.

The scheduler polls every minute already (`make run`, `manage.py run_scheduler`: the job
"mail.poll_mailboxes"); run this by hand, from cron, or with `--loop --every SECONDS` for a
different pace.
It prints one line per mailbox and exits non-zero only when every mailbox polled failed, so a
scheduler notices a desk that receives nothing while one broken mailbox among several does not
page anybody (its error is on the mailbox in the admin).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.utils.translation import gettext as _

from tessera.mail import imap, polling
from tessera.mail.ingest import DATABASE_UNAVAILABLE


class Command(BaseCommand):
    help = _("Take new mail from the configured IMAP mailboxes into the desk.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", metavar="NAME", help=_("Poll only the mailbox with this name."))
        parser.add_argument(
            "--limit", type=int, default=50, help=_("Take at most this many messages per mailbox per poll.")
        )
        parser.add_argument("--loop", action="store_true", help=_("Keep polling until stopped."))
        parser.add_argument(
            "--every", type=int, default=60, metavar="SECONDS", help=_("With --loop: seconds between polls.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] < 1 or options["every"] < 1:
            raise CommandError(_("--limit and --every must be at least 1."))
        if not options["loop"]:
            if not self.poll_all(options["mailbox"], options["limit"]):
                raise CommandError(_("Every mailbox failed."))
            return
        try:
            while True:
                try:
                    self.poll_all(options["mailbox"], options["limit"])
                except DATABASE_UNAVAILABLE as exc:
                    # Keep looping: the next round reconnects once the database is back.
                    self.stderr.write(_("The database is unavailable: %(error)s") % {"error": exc})
                close_old_connections()
                time.sleep(options["every"])
        except KeyboardInterrupt:
            return

    def poll_all(self, name: str | None, limit: int) -> bool:
        """Poll each mailbox once; True when at least one poll worked (or there was none)."""
        try:
            polled = polling.poll_all(name, limit, report=self.report)
        except polling.NoSuchMailbox as exc:
            raise CommandError(str(exc)) from None
        if not polled.results:
            self.stdout.write(_("No active mailboxes to poll."))
        return polled.ok

    def report(self, result: imap.PollResult) -> None:
        self.stdout.write(
            _("%(address)s: %(new)d new, %(errors)d errors")
            % {"address": result.mailbox.address, "new": result.taken, "errors": 0 if result.ok else 1}
        )
        if not result.ok:
            self.stderr.write(f"{result.mailbox.address}: {result.error}")
