"""Every change to canned responses: saving (with its files), deleting, counting uses; and what
a reply takes from the responses inserted into it (their text for a ticket, their files).

The policy decides who may manage which response (tickets.policy.can_manage_canned); every
change is written to the audit log. Usage is counted when a reply that used a response is sent
(the reply box sends the ids of the responses inserted into it), with one UPDATE … SET
usage_count = usage_count + 1, so concurrent replies never lose a count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from tessera.accounts.models import Department, User
from tessera.audit import services as audit
from tessera.tickets import attachments as attachment_store
from tessera.tickets import content, policy
from tessera.tickets.models import Ticket

from . import variables
from .models import CannedAttachment, CannedResponse

TITLE_MAX = 200


def validate_text(title: str, body: str) -> dict[str, list[str]]:
    """What is wrong with a response's title and text, by field (empty: nothing)."""
    errors: dict[str, list[str]] = {}
    if not (title or "").strip():
        errors["title"] = [_("Give the response a title.")]
    elif len(title.strip()) > TITLE_MAX:
        errors["title"] = [_("Keep the title under %(n)d characters.") % {"n": TITLE_MAX}]
    body_errors = []
    if not (body or "").strip():
        body_errors.append(_("Write the response's text."))
    elif len(body) > settings.TESSERA["MAX_MESSAGE_LENGTH"]:
        body_errors.append(
            _("Keep the text under %(n)s characters.")
            % {"n": number_format(settings.TESSERA["MAX_MESSAGE_LENGTH"], force_grouping=True)}
        )
    body_errors.extend(
        _("Unknown variable %(variable)s: use one of the variables listed below the text.")
        % {"variable": f"%{{{name}}}"}
        for name in variables.unknown_variables(body)
    )
    body_errors.extend(
        _("“%(written)s” is missing its closing brace: variables are written like %(example)s.")
        % {"written": written, "example": "%{ticket.number}"}
        for written in variables.unclosed(body)
    )
    body_errors.extend(
        _("“%(written)s” is not a variable here: variables are written like %(example)s.")
        % {"written": written, "example": "%{ticket.number}"}
        for written in variables.foreign_syntax(body)
    )
    if body_errors:
        errors["body"] = body_errors
    return errors


def save_response(
    actor: User,
    response: CannedResponse | None,
    *,
    title: str,
    body: str,
    departments: Iterable[Department] = (),
    is_active: bool = True,
    uploads: Sequence[attachment_store.Upload] = (),
    remove_files: Iterable[int] = (),
) -> CannedResponse:
    """Create (response None) or change a canned response. Refused unless the actor manages
    responses for every department it is shared with, before and after the change."""
    departments = list(departments)
    department_ids = sorted({d.pk for d in departments})
    if response is not None:
        before_ids = sorted(response.departments.values_list("pk", flat=True))
        if not policy.can_manage_canned(actor, before_ids):
            raise PermissionDenied(_("You cannot change this canned response."))
    if not policy.can_manage_canned(actor, department_ids):
        raise PermissionDenied(
            _("You cannot share canned responses with everyone.")
            if not department_ids
            else _("You can only share canned responses with departments where you manage them.")
        )
    errors = validate_text(title, body)
    if errors:
        raise ValidationError(errors)
    attachment_store.validate_uploads(list(uploads))
    remove = set(remove_files)
    now = timezone.now()
    with transaction.atomic():
        if response is None:
            response = CannedResponse(created_by=actor, created_at=now)
            before = None
        else:
            response = CannedResponse.objects.select_for_update().get(pk=response.pk)
            before = audit.snapshot(response)
            before["files"] = _file_names(response)
        response.title = title.strip()
        response.body = body.replace("\r\n", "\n").strip()
        response.is_active = is_active
        response.updated_at = now
        response.save()
        response.departments.set(department_ids)
        gone = list(response.attachments.filter(pk__in=remove))
        for file in gone:
            file.file.delete(save=False)
            file.delete()
        _store_files(response, uploads)
        after = audit.snapshot(response)
        after["files"] = _file_names(response)
        if before is None:
            audit.record(audit.Action.CHANGE, actor=actor, obj=response, after=after, detail="created")
        else:
            old, new = audit.changes(before, after)
            old.pop("updated_at", None)
            new.pop("updated_at", None)
            if old or new:
                audit.record(audit.Action.CHANGE, actor=actor, obj=response, before=old, after=new, detail="changed")
    return response


def delete_response(actor: User, response: CannedResponse) -> None:
    department_ids = sorted(response.departments.values_list("pk", flat=True))
    if not policy.can_manage_canned(actor, department_ids):
        raise PermissionDenied(_("You cannot delete this canned response."))
    with transaction.atomic():
        before = audit.snapshot(response)
        before["files"] = _file_names(response)
        files = list(response.attachments.all())
        audit.record(audit.Action.CHANGE, actor=actor, obj=response, before=before, detail="deleted")
        response.delete()
        # The files go once the rows are gone for good.
        transaction.on_commit(lambda: _delete_stored(files))


def _delete_stored(files: list[CannedAttachment]) -> None:
    for file in files:
        file.file.delete(save=False)


def _file_names(response: CannedResponse) -> list[str]:
    return sorted(response.attachments.values_list("name", flat=True))


def _store_files(response: CannedResponse, uploads: Sequence[attachment_store.Upload]) -> None:
    for up in uploads:
        name = attachment_store.safe_name(up.name)
        row = CannedAttachment(
            response=response,
            name=name,
            size=len(up.content),
            content_type=attachment_store.stored_content_type(name, up.content_type, up.content),
            sha256=hashlib.sha256(up.content).hexdigest(),
        )
        row.file.save(name, ContentFile(up.content), save=False)
        row.save()


# ---------------------------------------------------------------------------- use in a reply


@dataclass(frozen=True)
class Rendered:
    """A response filled in for one ticket: the text inserted into the reply box, the same
    text as the reply would show it (sanitised HTML), and its files."""

    response: CannedResponse
    text: str
    html: str
    files: list[CannedAttachment]


def render_for(actor: User, ticket: Ticket, response: CannedResponse) -> Rendered:
    text = variables.render(response.body, ticket, actor)
    html, _text = content.from_text(text)
    return Rendered(response, text, html, list(response.attachments.all()))


def reply_uploads(responses: Sequence[CannedResponse]) -> list[attachment_store.Upload]:
    """The files of the responses inserted into a reply, read for the reply's own upload list. A
    file missing from the store is refused with its name rather than silently left out."""
    uploads = []
    for response in responses:
        for file in response.attachments.all():
            try:
                with file.file.open("rb") as handle:
                    data = handle.read()
            except FileNotFoundError as exc:
                raise ValidationError(
                    {"attachments": _("“%(name)s” is missing from the attachment store.") % {"name": file.name}}
                ) from exc
            uploads.append(attachment_store.Upload(name=file.name, content=data, content_type=file.content_type))
    return uploads


def count_use(responses: Iterable[CannedResponse]) -> int:
    """One more use for each response (a reply that used them was sent)."""
    pks = {r.pk for r in responses}
    if not pks:
        return 0
    return CannedResponse.objects.filter(pk__in=pks).update(usage_count=F("usage_count") + 1)
