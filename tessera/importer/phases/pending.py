"""Source tables this importer does not bring over (yet, or ever), each with its reason, so the
report still accounts for every row of them."""

from __future__ import annotations

from ..runner import Context

# Table → reason, marked with gettext_noop. Everything of osTicket is imported or reported by its phase.
PENDING: dict[str, str] = {}


def pending(ctx: Context) -> None:
    from django.utils.translation import gettext  # local import: the message is translated at report time

    for table, reason in PENDING.items():
        if ctx.source.has(table):
            n = ctx.source.count(table)
            ctx.report.expect(table, n)
            ctx.report.skip_all(table, n, gettext(reason))
