"""Importing end users from a CSV file: read it, plan each row, show the plan, then apply all of
it in one transaction or nothing.

The file: a header row naming the columns (email is required; name, organisation and time zone
are optional, in any order, spelled as the header aliases below allow), UTF-8 with or without a
byte-order mark, separated by commas, semicolons or tabs (guessed by csv.Sniffer, else whichever
of `,` and `;` the header holds more of).

Each row becomes a plan step: create a new end user, update an existing one, leave one as it is,
or an error that names the row and says what is wrong. What the plan decides:

- An address that is not valid, or appears on an earlier row of the file, is an error.
- An address that belongs to an agent or an administrator is an error: they are changed in the
  admin, never by an import.
- An organisation is named as it is in the directory (any case). A name that matches none is an
  error, not a new organisation: creating organisations is for administrators, and a typing
  mistake must not make a second "Acme". A new user with no organisation joins the organisation
  that claims their address's domain, as every new user does.
- An empty cell leaves the stored value as it is (an import never clears a field).

`prepare` plans a file and seals it: the file's text and a digest of its plan are signed
(`TimestampSigner`, an hour), and `apply` takes only that sealed token. It plans the file again
against the directory as it is now and refuses when the plan differs from the one the agent saw
(someone changed the directory in between), so what is imported is exactly what was previewed.
The steps run through `directory_services.create_end_user` and `update_end_user` (validated and
audited there) inside one transaction: an error on any row leaves nothing imported.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tessera.audit import services as audit
from tessera.single_line import single_line
from tessera.tickets import policy

from . import directory_services, phone
from .models import Organization, User
from .services import _time_zones

MAX_BYTES = 1024 * 1024
MAX_ROWS = 2000
TOKEN_MAX_AGE = 3600  # seconds between the preview and the import
SALT = "tessera.accounts.directory_import"

# Header spellings (compared lower-case, spaces, dashes and underscores ignored) → field.
COLUMNS = {
    "email": "email",
    "emailaddress": "email",
    "mail": "email",
    "name": "name",
    "fullname": "name",
    "organisation": "organisation",
    "organization": "organisation",
    "org": "organisation",
    "company": "organisation",
    "timezone": "time_zone",
    "tz": "time_zone",
    "phone": "phone",
    "phonenumber": "phone",
    "telephone": "phone",
    "tel": "phone",
}
NAME_MAX = 150


class Step(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class PlannedRow:
    line: int  # the row's line in the file (the header is line 1)
    email: str
    step: Step
    values: dict[str, Any] = field(default_factory=dict)  # what create/update is given
    changes: list[str] = field(default_factory=list)  # shown in the preview
    errors: list[str] = field(default_factory=list)
    user_id: int | None = None


@dataclass
class Plan:
    rows: list[PlannedRow]
    ignored_columns: list[str]
    problem: str = ""  # the whole file is refused (no rows planned)
    token: str = ""

    def count(self, step: Step) -> int:
        return sum(1 for r in self.rows if r.step == step)

    @property
    def errors(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.step == Step.ERROR]

    @property
    def can_apply(self) -> bool:
        return not self.problem and not self.errors and any(r.step in (Step.CREATE, Step.UPDATE) for r in self.rows)

    def digest(self) -> str:
        """What the import would do, as one hash: the same file planned against a changed
        directory gives another."""
        shape = [(r.line, r.email, str(r.step), r.user_id, sorted(r.values.items())) for r in self.rows]
        return hashlib.sha256(json.dumps(shape, default=str).encode()).hexdigest()


class ImportRefused(Exception):
    """The import was not applied; nothing changed. The message says why, for the agent."""


def _refused(message: str) -> Plan:
    return Plan(rows=[], ignored_columns=[], problem=message)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(_("The file is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8”.")) from None


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    sample = text[:8192]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""

        class Fallback(csv.excel):
            delimiter = ";" if header.count(";") > header.count(",") else ","

        return Fallback


def _header_key(name: str) -> str:
    return "".join(ch for ch in name.strip().lower() if ch not in " -_")


# The export's column names (directory_export.user_lines), which it writes in the agent's language.
EXPORT_HEADERS = {
    "email": gettext_noop("email"),
    "name": gettext_noop("name"),
    "organisation": gettext_noop("organisation"),
    "phone": gettext_noop("phone"),
    "time_zone": gettext_noop("time zone"),
}


@functools.cache
def _columns() -> dict[str, str]:
    """COLUMNS, and the export's headers in every language the desk ships, so a file exported in
    German reads back in."""
    found = dict(COLUMNS)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for key, word in EXPORT_HEADERS.items():
                found.setdefault(_header_key(_(word)), key)
    return found


def read(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The file's rows as (line, {field: text}), and the header names that were not used.
    Raises ValueError with the reason when the file cannot be read as a directory."""
    if len(data) > MAX_BYTES:
        raise ValueError(_("The file is larger than %(size)s MB. Split it and import the parts.") % {"size": 1})
    text = _decode(data)
    if "\x00" in text:
        raise ValueError(_("The file holds binary data; choose a CSV file."))
    if not text.strip():
        raise ValueError(_("The file is empty."))
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ValueError(_("The file has no header row.")) from None
    columns: dict[int, str] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        key = _columns().get(_header_key(name))
        if key is None or key in columns.values():
            if name.strip():
                ignored.append(name.strip()[:60])
            continue
        columns[index] = key
    if "email" not in columns.values():
        raise ValueError(
            _("The first row must name the columns, one of them “email”. It reads: %(header)s")
            % {"header": ", ".join(h.strip()[:40] for h in header[:8]) or _("(nothing)")}
        )
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank lines are not people
            if len(rows) >= MAX_ROWS:
                raise ValueError(
                    _("The file has more than %(count)s people. Split it and import the parts.")
                    % {"count": number_format(MAX_ROWS, force_grouping=True)}
                )
            values = {key: (cells[i].strip() if i < len(cells) else "") for i, key in columns.items()}
            rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise ValueError(
            _("Line %(line)s cannot be read: %(reason)s") % {"line": reader.line_num, "reason": exc}
        ) from None
    return rows, ignored


def plan(data: bytes) -> Plan:
    """What importing this file would do to the directory as it is now; nothing is written."""
    try:
        rows, ignored = read(data)
    except ValueError as exc:
        return _refused(str(exc))
    emails = {values.get("email", "").strip().lower() for _line, values in rows}
    existing: dict[str, User] = {}
    wanted = sorted(e for e in emails if e)
    for start in range(0, len(wanted), 500):
        for user in User.objects.select_related("agent", "organization").filter(email__in=wanted[start : start + 500]):
            existing[user.email] = user
    org_names = {values.get("organisation", "").strip().lower() for _line, values in rows} - {""}
    organizations: dict[str, Organization] = {
        o.lowered: o for o in Organization.objects.annotate(lowered=Lower("name")).filter(lowered__in=org_names)
    }
    zones = _time_zones()
    seen: dict[str, int] = {}
    planned = [_plan_row(line, values, existing, organizations, zones, seen) for line, values in rows]
    if not planned:
        return _refused(_("The file names its columns but lists nobody."))
    return Plan(rows=planned, ignored_columns=ignored)


def _plan_row(
    line: int,
    values: dict[str, str],
    existing: dict[str, User],
    organizations: dict[str, Organization],
    zones: set[str],
    seen: dict[str, int],
) -> PlannedRow:
    email = values.get("email", "").strip().lower()
    row = PlannedRow(line=line, email=email[:254], step=Step.ERROR)
    try:
        validate_email(email)
    except ValidationError:
        row.errors.append(
            _("“%(email)s” is not a valid email address.") % {"email": email[:80]}
            if email
            else _("The email address is missing.")
        )
        return row
    if email in seen:
        row.errors.append(_("This address is also on line %(line)s.") % {"line": seen[email]})
        return row
    seen[email] = line
    user = existing.get(email)
    if user is not None and policy.is_desk_staff(user):
        row.errors.append(_("This address belongs to an agent or administrator; change them in the admin."))
        return row
    name = single_line(values.get("name", "")).strip()  # as it will be stored: one line, never a header
    if len(name) > NAME_MAX:
        row.errors.append(_("The name is longer than %(count)s characters.") % {"count": NAME_MAX})
    org_name = values.get("organisation", "")
    organization = organizations.get(org_name.lower()) if org_name else None
    if org_name and organization is None:
        row.errors.append(
            _("No organisation is named “%(name)s”. An administrator creates it first.") % {"name": org_name[:80]}
        )
    zone = values.get("time_zone", "")
    if zone and zone not in zones:
        row.errors.append(_("“%(zone)s” is not a time zone such as Europe/Paris.") % {"zone": zone[:60]})
    number = single_line(values.get("phone", "")).strip()
    if number and not phone.is_phone(number):
        row.errors.append(_("“%(phone)s” is not a phone number.") % {"phone": number[:60]})
    if row.errors:
        return row
    if user is None:
        row.step = Step.CREATE
        row.values = {"email": email}
        if name:
            row.values["name"] = name
        if organization is not None:
            row.values["organization"] = organization.pk
        if zone:
            row.values["time_zone"] = zone
        if number:
            row.values["phone"] = number
        return row
    row.user_id = user.pk
    if name and name != user.name:
        row.values["name"] = name
        row.changes.append(_("name: %(old)s → %(new)s") % {"old": user.name or "—", "new": name})
    if organization is not None and organization.pk != user.organization_id:
        row.values["organization"] = organization.pk
        old = user.organization.name if user.organization else "—"
        row.changes.append(_("organisation: %(old)s → %(new)s") % {"old": old, "new": organization.name})
    if zone and zone != user.time_zone:
        row.values["time_zone"] = zone
        row.changes.append(_("time zone: %(old)s → %(new)s") % {"old": user.time_zone or "—", "new": zone})
    if number and number != user.phone:
        row.values["phone"] = number
        row.changes.append(_("phone: %(old)s → %(new)s") % {"old": user.phone or "—", "new": number})
    row.step = Step.UPDATE if row.values else Step.UNCHANGED
    return row


def prepare(actor: User, data: bytes) -> Plan:
    """Plan an uploaded file for the preview, and seal it for `apply` when it can be applied."""
    _require(actor)
    found = plan(data)
    if found.can_apply:
        text = data.decode("utf-8-sig")
        found.token = signing.TimestampSigner(salt=SALT).sign_object(
            {"csv": text, "plan": found.digest(), "by": actor.pk}, compress=True
        )
    return found


def apply(actor: User, token: str) -> Plan:
    """Import what the preview showed, all of it in one transaction, or raise ImportRefused and
    change nothing."""
    _require(actor)
    try:
        sealed = signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise ImportRefused(_("The preview is more than an hour old. Upload the file again.")) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise ImportRefused(_("This import was not previewed here. Upload the file again.")) from None
    if not isinstance(sealed, dict) or sealed.get("by") != actor.pk:
        raise ImportRefused(_("This import was not previewed here. Upload the file again."))
    data = str(sealed["csv"]).encode()
    current = plan(data)
    if current.digest() != sealed.get("plan") or not current.can_apply:
        raise ImportRefused(
            _(
                "The directory changed since the preview, so the import would no longer do what it showed. "
                "Upload the file again to see the new preview."
            )
        )
    users = {u.pk: u for u in User.objects.filter(pk__in=[r.user_id for r in current.rows if r.user_id])}
    step_row = None
    try:
        with transaction.atomic():
            for step_row in current.rows:
                if step_row.step == Step.CREATE:
                    directory_services.create_end_user(actor, step_row.values)
                elif step_row.step == Step.UPDATE:
                    directory_services.update_end_user(actor, users[step_row.user_id or 0], step_row.values)
            audit.record(
                audit.Action.CHANGE,
                actor=actor,
                object_type="accounts.user",
                object_repr=_("CSV import"),
                after={"created": current.count(Step.CREATE), "updated": current.count(Step.UPDATE)},
                detail="people imported",
            )
    except (ValidationError, PermissionDenied, DatabaseError) as exc:
        line = step_row.line if step_row is not None else 0
        reason = "; ".join(_messages(exc)) or _("the database refused the change")
        raise ImportRefused(
            _("Nothing was imported: line %(line)s could not be saved (%(reason)s).") % {"line": line, "reason": reason}
        ) from exc
    return current


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [str(m) for m in exc.messages]
    if isinstance(exc, PermissionDenied):
        return [str(exc)]
    return []


def _require(actor: User) -> None:
    if not policy.can_import_people(actor):
        raise PermissionDenied(_("You may not import people."))
