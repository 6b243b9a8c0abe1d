"""Keyset cursors for ticket lists: opaque to clients, signed so they cannot be forged.

A cursor is the last row's (sort value, id) under one sort, the same position the workspace
queues page from (`staff.filters.QueueFilter`), signed with the site's secret. A cursor that
was edited, made under another sort or by another key is a 422 naming `cursor`, never a 500
and never a page that silently starts elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.utils.translation import gettext as _

from tessera.api.problems import ApiProblem

SALT = "tessera.api.v1.tickets.cursor"
MAX_LENGTH = 2_000


@dataclass(frozen=True)
class Position:
    sort: str
    value: str  # as QueueFilter.cursor_of writes it ("" for NULL)
    pk: str


def encode(position: Position, *, key_id: int) -> str:
    return signing.dumps([position.sort, position.value, position.pk, key_id], salt=SALT, compress=True)


def _invalid(message: str) -> ApiProblem:
    return ApiProblem("validation", message, errors=[("cursor", message)])


def decode(raw: str, *, sort: str, key_id: int) -> Position:
    if len(raw) > MAX_LENGTH:
        raise _invalid(_("This cursor is not one this API gave out."))
    try:
        data = signing.loads(raw, salt=SALT)
    except (signing.BadSignature, ValueError, UnicodeError):
        raise _invalid(_("This cursor is not one this API gave out.")) from None
    if not (isinstance(data, list) and len(data) == 4 and all(isinstance(v, str) for v in data[:3])):
        raise _invalid(_("This cursor is not one this API gave out."))
    if data[3] != key_id:
        raise _invalid(_("This cursor was given to another API key."))
    if data[0] != sort:
        raise _invalid(_("This cursor belongs to another sort order; start again without it."))
    return Position(sort=data[0], value=data[1], pk=data[2])
