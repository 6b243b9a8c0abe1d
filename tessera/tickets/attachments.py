"""Checking and storing files people attach. Validation happens before anything is saved,
so a refused file never leaves half a ticket behind."""

from __future__ import annotations

import hashlib
import mimetypes
import os
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from .models import Attachment, ThreadEntry


@dataclass(frozen=True)
class Upload:
    """A file ready to store: its name, bytes and declared type."""

    name: str
    content: bytes
    content_type: str = ""
    declared_size: int | None = None  # set when the bytes were not read because the file is too big
    content_id: str = ""  # an email's inline image, referred to from the body as cid:<content_id>

    @property
    def size(self) -> int:
        return self.declared_size if self.declared_size is not None else len(self.content)


def from_uploaded_files(files) -> list[Upload]:
    """Read uploaded files, except those already known to be over the limit: a 2 GB upload
    is refused by its size without ever being held in memory."""
    limit = settings.TESSERA["MAX_ATTACHMENT_BYTES"]
    uploads = []
    for f in files:
        content_type = getattr(f, "content_type", "") or ""
        size = getattr(f, "size", None)
        if size is not None and size > limit:
            uploads.append(Upload(name=f.name, content=b"", content_type=content_type, declared_size=size))
        else:
            uploads.append(Upload(name=f.name, content=f.read(), content_type=content_type))
    return uploads


def safe_name(name: str) -> str:
    """The file name as it will be stored: no folders, no odd characters, never empty.

    Validation checks this name, not the raw one, so "setup.exe " or "setup.exe." cannot
    slip past the blocked extensions and then be stored as "setup.exe"."""
    name = os.path.basename((name or "").replace("\\", "/")).strip().rstrip(". ")
    try:
        name = get_valid_filename(name)
    except SuspiciousFileOperation:  # nothing usable left, e.g. "?" or ".."
        name = ""
    return name[-255:] or "attachment"


def validate_uploads(uploads: list[Upload]) -> None:
    limits = settings.TESSERA
    blocked = {e.lower() if e.startswith(".") else f".{e.lower()}" for e in limits["BLOCKED_EXTENSIONS"]}
    errors = []
    if len(uploads) > limits["MAX_ATTACHMENTS"]:
        errors.append(_("Attach at most %(n)d files.") % {"n": limits["MAX_ATTACHMENTS"]})
    for up in uploads:
        ext = os.path.splitext(safe_name(up.name))[1].lower()
        if ext in blocked:
            errors.append(_("“%(name)s”: files of type %(ext)s are not accepted.") % {"name": up.name, "ext": ext})
        elif up.size > limits["MAX_ATTACHMENT_BYTES"]:
            errors.append(
                _("“%(name)s” is %(size)s; the limit is %(limit)s.")
                % {
                    "name": up.name,
                    "size": filesizeformat(up.size),
                    "limit": filesizeformat(limits["MAX_ATTACHMENT_BYTES"]),
                }
            )
    if errors:
        raise ValidationError({"attachments": errors})


def store(entry: ThreadEntry, uploads: list[Upload]) -> list[Attachment]:
    stored = []
    for up in uploads:
        digest = hashlib.sha256(up.content).hexdigest()
        name = safe_name(up.name)
        content_type = (up.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream")[:120]
        att = Attachment(
            entry=entry,
            name=name,
            size=len(up.content),
            content_type=content_type,
            sha256=digest,
            content_id=up.content_id[:255],
        )
        att.file.save(name, ContentFile(up.content), save=False)
        att.save()
        stored.append(att)
    return stored
