"""Source tables this importer does not bring over (yet, or ever), each with its reason, so the
report still accounts for every row of them."""

from __future__ import annotations

from django.utils.translation import gettext_noop as _

from ..runner import Context

PENDING: dict[str, str] = {
    "form": _("custom forms are not imported yet"),
    "form_field": _("custom forms are not imported yet"),
    "list": _("custom lists are not imported yet"),
    "list_items": _("custom lists are not imported yet"),
    "help_topic_form": _("custom forms are not imported yet"),
    "schedule": _("business-hours schedules are not imported yet (SLA plans run 24/7)"),
    "schedule_entry": _("business-hours schedules are not imported yet (SLA plans run 24/7)"),
}


def pending(ctx: Context) -> None:
    from django.utils.translation import gettext  # local import: the message is translated at report time

    for table, reason in PENDING.items():
        if ctx.source.has(table):
            n = ctx.source.count(table)
            ctx.report.expect(table, n)
            ctx.report.skip_all(table, n, gettext(reason))
    form_answers(ctx)


def form_answers(ctx: Context) -> None:
    """Form entries and their values: the ticket subject and priority and the user's name,
    address, phone and notes come over with their owners; other answers (custom fields) not yet."""
    from django.utils.translation import gettext  # local import: see above

    src = ctx.source
    kept = "('subject','priority','message','name','email','phone','notes','title')"
    total = src.count("form_entry_values")
    folded = src.count(
        "form_entry_values",
        f"field_id IN (SELECT id FROM {src.t('form_field')} WHERE name IN {kept}) "  # noqa: S608  table names are ours
        f"AND entry_id IN (SELECT id FROM {src.t('form_entry')} WHERE object_type IN ('T','U','A'))",
    )
    ctx.report.expect("form_entry_values", total)
    ctx.report.folded("form_entry_values", folded, "ticket")
    if total - folded:
        ctx.report.skip_all("form_entry_values", total - folded, gettext("custom field answers are not imported yet"))
    total = src.count("form_entry")
    folded = src.count("form_entry", "object_type IN ('T','U','A')")
    ctx.report.expect("form_entry", total)
    ctx.report.folded("form_entry", folded, "ticket")
    if total - folded:
        ctx.report.skip_all("form_entry", total - folded, gettext("answers about organisations are not imported yet"))
