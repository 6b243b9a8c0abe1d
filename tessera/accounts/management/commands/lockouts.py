"""List or lift lockouts from the command line: for when the administrator is the one locked out."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone

from tessera.accounts import throttle
from tessera.accounts.models import Throttle


class Command(BaseCommand):
    help = (
        "List current lockouts, or lift them: `lockouts --lift ada@example.com 203.0.113.7`, "
        "`lockouts --lift-all`. `--prune` forgets counts that no longer refuse anything."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--lift", nargs="+", metavar="EMAIL_OR_IP", help="Lift lockouts of these keys.")
        parser.add_argument("--lift-all", action="store_true", help="Lift every lockout.")
        parser.add_argument("--prune", action="store_true", help="Delete expired counts.")

    def handle(
        self,
        *args: object,
        lift: list[str] | None = None,
        lift_all: bool = False,
        prune: bool = False,
        **options: object,
    ) -> None:
        if lift and lift_all:
            raise CommandError("Give either --lift KEYS or --lift-all, not both.")
        if lift or lift_all:
            rows = Throttle.objects.all()
            if lift:
                keys = {k.strip() for k in lift} | {throttle.normalize_account(k) for k in lift}
                rows = rows.filter(key__in=keys)
            lifted = throttle.lift(rows)
            self.stdout.write(f"Lifted {lifted} lockout(s).")
        if prune:
            self.stdout.write(f"Forgot {throttle.prune()} expired count(s).")
        if lift or lift_all or prune:
            return
        locked = Throttle.objects.filter(Q(locked_until__gt=timezone.now())).order_by("locked_until")
        if not locked:
            self.stdout.write("Nobody is locked out.")
        for row in locked:
            if row.locked_until is None:  # never: the filter above wants a time; this tells mypy
                continue
            until = row.locked_until.strftime("%Y-%m-%d %H:%M UTC")
            self.stdout.write(f"{row.key}\t{row.kind}\t{row.scope}\tuntil {until}")
