"""Ticket page template filters: quoted email text folded away (tickets.quote_folding)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from tessera.tickets.quote_folding import fold_quotes

register = template.Library()


@register.filter(is_safe=True)
def collapse_quotes(body_html: str) -> SafeString:
    """Template filter: `{{ entry.body_html|collapse_quotes }}` (the body is already sanitised)."""
    return mark_safe(fold_quotes(str(body_html or "")))  # noqa: S308  sanitised in, re-sanitised when changed
