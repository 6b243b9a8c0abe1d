"""Checking and storing files people attach. Validation happens before anything is saved,
so a refused file never leaves half a ticket behind."""

from __future__ import annotations

import hashlib
import io
import mimetypes
import os
import re
import struct
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import filetype

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


class UploadedLike(Protocol):
    """What from_uploaded_files needs of a file (Django's UploadedFile has it); its `size` and
    `content_type` are read when the file has them."""

    @property
    def name(self) -> str: ...

    def read(self) -> bytes: ...


def from_uploaded_files(files: Iterable[UploadedLike]) -> list[Upload]:
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


# ---------------------------------------------------------------------------- what the bytes are

# Mach-O (32/64-bit, both byte orders) and universal binaries; CAFEBABE is also a Java class file.
_MACHO_MAGIC = {b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"}
_CFB_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # OLE compound file: .doc, .xls, and Windows Installer files
# Root-entry class ids of Windows Installer packages (.msi), patches (.msp) and transforms (.mst).
_INSTALLER_CLSIDS = {
    bytes.fromhex("84100c0000000000c000000000000046"),
    bytes.fromhex("86100c0000000000c000000000000046"),
    bytes.fromhex("82100c0000000000c000000000000046"),
}
# Images a browser may be asked to show; a file declared as one of these must really be an image.
_RASTER_IMAGES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp", "image/x-icon", "image/tiff"}
)


def program_kind(content: bytes) -> str | None:
    """What kind of program these bytes are (a name for the message), or None for anything else.

    Names can lie; the first bytes of a program cannot, or it would not run. `filetype` reads the
    Windows (PE) and Linux (ELF) headers; Mach-O and Windows Installer it does not know."""
    kind = filetype.guess(content[:8192])
    if kind is not None and kind.extension == "exe":
        # "MZ" alone is also how some text begins: a Windows program's stub points at its PE header.
        (pe_offset,) = struct.unpack_from("<I", content, 0x3C) if len(content) >= 0x40 else (0,)
        if pe_offset and content[pe_offset : pe_offset + 4] == b"PE\0\0":
            return "Windows"
    if kind is not None and kind.extension == "elf":
        return "Linux (ELF)"
    if content[:4] in _MACHO_MAGIC:
        return "macOS (Mach-O)"
    if content[:8] == _CFB_MAGIC and _installer_clsid(content) in _INSTALLER_CLSIDS:
        return "Windows Installer"
    return None


def _installer_clsid(content: bytes) -> bytes:
    """The root directory entry's class id of an OLE compound file (empty when unreadable)."""
    if len(content) < 0x34:
        return b""
    (shift,) = struct.unpack_from("<H", content, 0x1E)
    (first_directory_sector,) = struct.unpack_from("<I", content, 0x30)
    if shift not in (9, 12):
        return b""
    start = (first_directory_sector + 1) * (1 << shift) + 0x50
    return content[start : start + 16]


def has_macros(content: bytes) -> bool:
    """An Office Open XML file (.docx, .xlsx, .pptx…) that carries a VBA project: a macro-enabled
    document renamed to the harmless extension."""
    if not zipfile.is_zipfile(io.BytesIO(content)):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return any(os.path.basename(n).lower() == "vbaproject.bin" for n in archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


# RFC 6838's restricted names, type "/" subtype, lower-cased.
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
MAX_CONTENT_TYPE = Attachment._meta.get_field("content_type").max_length or 120


def media_type(declared: str) -> str:
    """`declared` as a bare `type/subtype`, or "" when it is not one. Senders write anything
    here (a word, a header with a line break, a parameter list cut off); what is stored and
    served must be a type a browser or client can parse."""
    base = declared.split(";", 1)[0].strip().lower()
    return base if len(base) <= MAX_CONTENT_TYPE and _MEDIA_TYPE.fullmatch(base) else ""


def served_content_type(stored: str) -> str:
    """The Content-Type a stored file is served with; rows kept before types were checked may
    hold anything."""
    return media_type(stored) or "application/octet-stream"


def stored_content_type(name: str, declared: str, content: bytes) -> str:
    """The type a file is stored (and later served) as. A file that says it is an image is only
    kept as one when its bytes are that image: anything else would be shown inline otherwise."""
    content_type = media_type(declared) or media_type(mimetypes.guess_type(name)[0] or "")
    content_type = content_type or "application/octet-stream"
    if content_type in _RASTER_IMAGES or (content_type.startswith("image/") and content_type != "image/svg+xml"):
        kind = filetype.guess(content[:8192])
        real = kind.mime if kind is not None and kind.mime.startswith("image/") else ""
        return real if real in _RASTER_IMAGES else "application/octet-stream"
    return content_type


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
        elif program := program_kind(up.content):
            errors.append(
                _("“%(name)s” is a program (%(kind)s), whatever its name says; programs are not accepted.")
                % {"name": up.name, "kind": program}
            )
        elif has_macros(up.content):
            errors.append(_("“%(name)s” contains macros; documents with macros are not accepted.") % {"name": up.name})
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
        content_type = stored_content_type(name, up.content_type, up.content)
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
