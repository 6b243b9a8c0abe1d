"""ETags from a ticket's version, and If-Match as the API's stale-form check.

The workspace sends the version it showed with every form and the services refuse a stale one
(`StaleTicket`). Over HTTP the same number travels as an entity tag: reads answer
`ETag: "<number>-<version>"`, and a change sent with `If-Match` carries the version the client
last saw. A tag for another ticket, or a version that is no longer current, answers 412.
`If-Match: *` (or no header) asks for no check.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from tessera.api.problems import ApiProblem
from tessera.tickets.models import Ticket

# If-Match compares strongly (RFC 9110 §13.1.1): a weak tag (W/"…") never matches.
_TAG = re.compile(r'\s*"(\d{1,19})-(\d{1,10})"\s*')


def etag_of(ticket: Ticket) -> str:
    return f'"{ticket.number}-{ticket.version}"'


def set_etag(response: HttpResponse, ticket: Ticket) -> None:
    response["ETag"] = etag_of(ticket)


def stale(ticket: Ticket) -> ApiProblem:
    return ApiProblem(
        "precondition-failed",
        _("Ticket %(ref)s changed since you read it (it is now at version %(version)d). Read it again, then retry.")
        % {"ref": ticket.reference, "version": ticket.version},
        headers={"ETag": etag_of(ticket)},
    )


def expected_version(request: HttpRequest, ticket: Ticket) -> int | None:
    """The version the client says it changes, from If-Match; None when it asks for no check.

    A header naming only other tickets, or that is not an entity tag at all, can never match:
    412 at once. Several tags may be listed; the one for this ticket counts."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    for part in header.split(","):
        match = _TAG.fullmatch(part)
        if match and int(match.group(1)) == ticket.number:
            return int(match.group(2))
    raise stale(ticket)


@contextmanager
def holding(request: HttpRequest, ticket: Ticket) -> Iterator[None]:
    """For the services that take no version (collaborators, links): compare with the ticket's
    row locked, and keep it locked through the change the block makes, so no other change can
    land between the comparison and this one."""
    version = expected_version(request, ticket)
    with transaction.atomic():
        if version is not None:
            current = Ticket.objects.select_for_update().values_list("version", flat=True).get(pk=ticket.pk)
            if current != version:
                ticket.version = current
                raise stale(ticket)
        yield
