"""Portal presentation helpers."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from tessera.fast_html import time_element
from tessera.tickets.content import link_inline_images
from tessera.tickets.models import Attachment, ThreadEntry, Ticket

register = template.Library()


@register.simple_tag
def when(value: datetime | None) -> SafeString | str:
    """`{% when value %}`: the workspace's one form of a time (fast_html.time_element), so a
    customer reads "today 16:05" with the exact time in their zone on hover, as agents do."""
    return time_element(value)


@register.simple_tag
def entry_body(entry: ThreadEntry, ticket: Ticket, token: str = "") -> SafeString:
    """An entry's sanitised body with its inline email images pointing at the portal's own
    (permission-checked) download links: the access-link one for guests, else the signed-in one."""

    def url(file: Attachment) -> str:
        if token:
            return reverse("portal:access_file", args=[token, file.pk])
        return reverse("portal:ticket_file", args=[ticket.number, file.pk])

    files = entry.files  # type: ignore[attr-defined]  # the selector prefetches them under this name
    body, _shown = link_inline_images(entry.body_html or "", files, url)
    return mark_safe(body)  # noqa: S308  sanitised when stored; only cid: sources were replaced, escaped
