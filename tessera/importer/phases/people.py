"""The people: agents with their departments, roles and passwords; teams; organisations with
their domains; end users with every address, phone, notes and portal password.

One person is one Tessera user whatever their osTicket roles: an agent who also wrote in as an
end user under the same address is the same account. Passwords are kept as osTicket hashed
them (tessera.accounts.hashers) and become Argon2 at the first sign-in."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils.translation import gettext as _

from tessera.accounts.models import (
    Agent,
    DirectoryNote,
    Membership,
    Organization,
    OrganizationDomain,
    Role,
    Team,
    User,
    validate_email_domain,
)

from ..runner import Context, Skip, fingerprint, sync
from ..source import Row

BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
PLACEHOLDER_DOMAIN = "import.invalid"
# osTicket's flags: Organization::SHARE_PRIMARY_CONTACT and SHARE_EVERYBODY (organization.status),
# User::PRIMARY_ORG_CONTACT (user.status).
SHARE_PRIMARY_CONTACTS = 8
SHARE_EVERYBODY = 16
PRIMARY_CONTACT = 1


def _password(hashed: str | None) -> str | None:
    """An osTicket password hash as Django stores it, or None if it cannot be verified."""
    if hashed and hashed.startswith(BCRYPT_PREFIXES):
        return f"osticket_bcrypt${hashed}"
    return None


def _person(email: str, name: str) -> User:
    """The Tessera user with this address, made if there is none."""
    email = (email or "").strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, name=(name or "")[:150])
        user.set_unusable_password()
        user.save()
    return user


def agents(ctx: Context) -> None:
    src = ctx.source
    rows = src.all(f"SELECT * FROM {src.t('staff')} ORDER BY staff_id")  # noqa: S608
    access: defaultdict[int, list[Row]] = defaultdict(list)
    if src.has("staff_dept_access"):
        for row in src.all(f"SELECT * FROM {src.t('staff_dept_access')}"):  # noqa: S608
            access[int(row["staff_id"])].append(row)

    def digest(row: Row) -> str:
        return fingerprint(row, access.get(int(row["staff_id"]), []))

    def fill(user: User, row: Row) -> None:
        name = " ".join(p for p in (row["firstname"], row["lastname"]) if p).strip() or row["username"]
        user.name = name[:150]
        user.is_staff = bool(row["isadmin"])
        user.is_superuser = bool(row["isadmin"])
        user.phone = (row["phone"] or row["mobile"] or "")[:40]
        user.time_zone = (row["timezone"] or "")[:64]
        password = _password(row["passwd"])
        if password:
            user.password = password
        elif row["passwd"]:
            ctx.report.note("staff", row["staff_id"], _("password hash of an unknown kind: the agent must reset it"))
        user.save()
        agent, _created = Agent.objects.get_or_create(user=user)
        agent.is_active = bool(row["isactive"])
        agent.is_available = not bool(row["onvacation"])
        agent.signature = row["signature"] or ""
        agent.save()
        places = [(row["dept_id"], row["role_id"], True)] + [
            (a["dept_id"], a["role_id"], False) for a in access.get(int(row["staff_id"]), [])
        ]
        for dept_id, role_id, primary in places:
            dept = ctx.map("department").get(int(dept_id or 0))
            role = ctx.map("role").get(int(role_id or 0))
            if dept is None:
                ctx.report.note(
                    "staff", row["staff_id"], _("department %(d)s unknown: membership left out") % {"d": dept_id}
                )
                continue
            if role is None:
                role = _fallback_role().pk
                ctx.report.note("staff", row["staff_id"], _("role %(r)s unknown: given view-only") % {"r": role_id})
            if primary:
                Membership.objects.filter(agent=agent, is_primary=True).exclude(department_id=dept).update(
                    is_primary=False
                )
            Membership.objects.update_or_create(
                agent=agent, department_id=dept, defaults={"role_id": role, "is_primary": primary}
            )

    def create(row: Row) -> int:
        email = (row["email"] or "").strip().lower()
        if not email or "@" not in email:
            email = f"osticket-agent-{row['staff_id']}@{PLACEHOLDER_DOMAIN}"
            ctx.report.note("staff", row["staff_id"], _("no email address: given %(e)s") % {"e": email})
        user = _person(email, "")
        fill(user, row)
        return user.pk

    def update(row: Row, target: int) -> None:
        user = User.objects.filter(pk=target).first()
        if user is None:
            raise Skip(_("the agent was deleted in Tessera"))
        fill(user, row)

    ctx.map("staff")
    sync(ctx, "staff", iter([rows]), pk="staff_id", total=len(rows), create=create, update=update, digest=digest)
    # The extended-access rows came over with their agents.
    ctx.report.expect("staff_dept_access", sum(len(v) for v in access.values()))
    ctx.report.folded("staff_dept_access", sum(len(v) for v in access.values()), "staff")


def _fallback_role() -> Role:
    role, _created = Role.objects.get_or_create(name="View only (osTicket)", defaults={"permissions": ["view", "note"]})
    return role


def teams(ctx: Context) -> None:
    src = ctx.source
    rows = src.all(f"SELECT * FROM {src.t('team')} ORDER BY team_id")  # noqa: S608
    members: defaultdict[int, list[int]] = defaultdict(list)
    member_rows = 0
    if src.has("team_member"):
        for row in src.all(f"SELECT * FROM {src.t('team_member')}"):  # noqa: S608
            members[int(row["team_id"])].append(int(row["staff_id"]))
            member_rows += 1

    def fill(team: Team, row: Row) -> None:
        team.lead_id = _agent(ctx, row["lead_id"])
        team.is_active = bool(int(row["flags"] or 0) & 1)
        team.save()
        team.members.set([a for a in (_agent(ctx, s) for s in members.get(int(row["team_id"]), [])) if a])

    def create(row: Row) -> int:
        team = Team.objects.filter(name=row["name"]).first() or Team(name=(row["name"] or "Team")[:120])
        fill(team, row)
        return team.pk

    def update(row: Row, target: int) -> None:
        team = Team.objects.filter(pk=target).first()
        if team is None:
            raise Skip(_("the team was deleted in Tessera"))
        fill(team, row)

    def digest(row: Row) -> str:
        return fingerprint(row, sorted(members.get(int(row["team_id"]), [])))

    ctx.map("team")
    sync(ctx, "team", iter([rows]), pk="team_id", total=len(rows), create=create, update=update, digest=digest)
    ctx.report.expect("team_member", member_rows)
    ctx.report.folded("team_member", member_rows, "team")


def _agent(ctx: Context, staff_id: Any) -> int | None:
    user = ctx.map("staff").get(int(staff_id or 0))
    if not user:
        return None
    return Agent.objects.filter(user_id=user).values_list("pk", flat=True).first()


def organizations(ctx: Context) -> None:
    src = ctx.source
    total = src.count("organization")

    def fill(org: Organization, row: Row) -> None:
        flags = int(row["status"] or 0)
        # 16: shared with every member; 8: with its primary contacts only, who become its
        # organisation managers (see users below).
        org.share_tickets = bool(flags & SHARE_EVERYBODY)
        if flags & SHARE_PRIMARY_CONTACTS and not flags & SHARE_EVERYBODY:
            contacts = src.count("user", f"org_id = %s AND status & {PRIMARY_CONTACT}", [row["id"]])
            if not contacts:
                ctx.report.note(
                    "organization",
                    row["id"],
                    _("shared with primary contacts only, but it has none: its tickets are shared with nobody"),
                )
        manager = (row["manager"] or "").strip()
        org.account_manager_id = None
        if manager.startswith("s"):
            org.account_manager_id = _agent(ctx, manager[1:] if manager[1:].isdecimal() else 0)
        elif manager.startswith("t"):
            ctx.report.note("organization", row["id"], _("its account manager is a team: left empty"))
        org.save()
        for domain in (d.strip().lower().lstrip("@") for d in (row["domain"] or "").replace(";", ",").split(",")):
            if not domain:
                continue
            try:
                validate_email_domain(domain)
            except Exception:
                ctx.report.note("organization", row["id"], _("domain %(d)s is not a domain: left out") % {"d": domain})
                continue
            taken = OrganizationDomain.objects.filter(domain=domain).exclude(organization=org).exists()
            if taken:
                ctx.report.note(
                    "organization", row["id"], _("domain %(d)s belongs to another organisation") % {"d": domain}
                )
            else:
                OrganizationDomain.objects.get_or_create(organization=org, domain=domain)

    def create(row: Row) -> int:
        org = Organization.objects.filter(name=row["name"]).first()
        if org is None:
            org = Organization(name=(row["name"] or f"Organisation {row['id']}")[:200])
            org.created_at = src.when(row["created"]) or org.created_at
        fill(org, row)
        return org.pk

    def update(row: Row, target: int) -> None:
        org = Organization.objects.filter(pk=target).first()
        if org is None:
            raise Skip(_("the organisation was deleted in Tessera"))
        fill(org, row)

    ctx.map("organization")
    sync(ctx, "organization", src.batches("organization", "id"), pk="id", total=total, create=create, update=update)


def users(ctx: Context) -> None:
    """End users, a batch at a time with their addresses, form answers and portal account."""
    src = ctx.source
    total = src.count("user")
    related: dict[int, dict[str, Any]] = {}
    flags_of: dict[int, int] = {}

    def prepare(batch: list[Row]) -> None:
        related.clear()
        ids = [int(r["id"]) for r in batch]
        marks = ",".join(["%s"] * len(ids))
        for row in batch:
            related[int(row["id"])] = {"emails": [], "fields": {}, "account": None}
        for row in src.all(f"SELECT * FROM {src.t('user_email')} WHERE user_id IN ({marks}) ORDER BY id", ids):  # noqa: S608
            related[int(row["user_id"])]["emails"].append(row)
        for row in src.all(
            f"SELECT e.object_id, f.name, v.value FROM {src.t('form_entry')} e "  # noqa: S608
            f"JOIN {src.t('form_entry_values')} v ON v.entry_id = e.id "
            f"JOIN {src.t('form_field')} f ON f.id = v.field_id "
            f"WHERE e.object_type = 'U' AND e.object_id IN ({marks}) ORDER BY e.id",
            ids,
        ):
            related[int(row["object_id"])]["fields"][row["name"]] = row["value"]
        if src.has("user_account"):
            for row in src.all(f"SELECT * FROM {src.t('user_account')} WHERE user_id IN ({marks})", ids):  # noqa: S608
                related[int(row["user_id"])]["account"] = row

    def digest(row: Row) -> str:
        if int(row["status"] or 0) & PRIMARY_CONTACT:  # the organisation's sharing decides what it means
            return fingerprint(row, related[int(row["id"])], org_flags().get(int(row["org_id"] or 0)))
        return fingerprint(row, related[int(row["id"])])

    def org_flags() -> dict[int, int]:
        if not flags_of:
            flags_of.update(
                (int(r["id"]), int(r["status"] or 0))
                for r in src.all(f"SELECT id, status FROM {src.t('organization')}")  # noqa: S608  table names are ours
            )
            flags_of[0] = 0
        return flags_of

    def manages(row: Row) -> bool:
        """osTicket's primary contact sees the organisation's tickets when it shares them."""
        if not int(row["status"] or 0) & PRIMARY_CONTACT:
            return False
        flags = org_flags().get(int(row["org_id"] or 0), 0)
        if flags & (SHARE_PRIMARY_CONTACTS | SHARE_EVERYBODY) and ctx.map("organization").get(int(row["org_id"])):
            return True
        ctx.report.note(
            "user",
            row["id"],
            _("primary contact of an organisation that shares no tickets (or was not imported): not its manager"),
        )
        return False

    def fill(user: User, row: Row, extra: list[str]) -> None:
        set_fields(user, row)
        user.save()
        notes = note_of(row, extra)
        if notes and not DirectoryNote.objects.filter(user=user, body=notes).exists():
            DirectoryNote.objects.create(user=user, body=notes)

    def note_of(row: Row, extra: list[str]) -> str:
        notes = (related[int(row["id"])]["fields"].get("notes") or "").strip()
        if extra:
            notes = "\n".join(filter(None, [notes, _("Other addresses in osTicket: %(a)s") % {"a": ", ".join(extra)}]))
        return notes[:4000]

    def set_fields(user: User, row: Row) -> None:
        data = related[int(row["id"])]
        if not user.name:
            user.name = (row["name"] or "")[:150]
        phone = (data["fields"].get("phone") or "").strip()
        if phone:
            user.phone = phone[:40]
        org = ctx.map("organization").get(int(row["org_id"] or 0))
        if org:
            user.organization_id = org
        user.organization_manager = manages(row)
        account = data["account"]
        if account:
            password = _password(account["passwd"])
            if password and not user.has_usable_password():
                user.password = password
            elif account["passwd"] and not password:
                ctx.report.note("user", row["id"], _("portal password of an unknown kind: the user must reset it"))
            user.time_zone = user.time_zone or (account["timezone"] or "")[:64]
            user.language = user.language or (account["lang"] or "").split("_")[0][:12]
        user.date_joined = src.when(row["created"]) or user.date_joined

    def addresses(row: Row) -> tuple[str, list[str]]:
        rows = related[int(row["id"])]["emails"]
        primary = next((e for e in rows if e["id"] == row["default_email_id"]), rows[0] if rows else None)
        first = (primary["address"] if primary else "").strip().lower()
        extra = [e["address"].strip().lower() for e in rows if e is not primary and e["address"]]
        return first, extra

    def create_many(rows: list[Row]) -> list[int | Skip]:
        """New people in one statement; an address Tessera already has goes the careful way."""
        wanted = {row_id: addresses(row) for row_id, row in ((int(r["id"]), r) for r in rows)}
        known = set(User.objects.filter(email__in=[e for e, _x in wanted.values()]).values_list("email", flat=True))
        outcomes: list[int | Skip] = []
        fresh: list[tuple[int, User, str]] = []
        seen: set[str] = set()
        for row in rows:
            email, extra = wanted[int(row["id"])]
            if not email or "@" not in email or email in known or email in seen:
                try:
                    outcomes.append(create(row))
                except Skip as why:
                    outcomes.append(why)
                continue
            seen.add(email)
            if extra:
                ctx.report.note("user", row["id"], _("more addresses kept in a note: %(a)s") % {"a": ", ".join(extra)})
            user = User(email=email, name=(row["name"] or "")[:150])
            user.set_unusable_password()
            set_fields(user, row)
            outcomes.append(-1 - len(fresh))
            fresh.append((len(outcomes) - 1, user, note_of(row, extra)))
        made = User.objects.bulk_create([u for _i, u, _n in fresh])
        DirectoryNote.objects.bulk_create(
            DirectoryNote(user=u, body=n) for (_i, _u, n), u in zip(fresh, made, strict=True) if n
        )
        for (index, _user, _note), user in zip(fresh, made, strict=True):
            outcomes[index] = user.pk
        return outcomes

    def create(row: Row) -> int:
        email, extra = addresses(row)
        if not email or "@" not in email:
            email = f"osticket-user-{row['id']}@{PLACEHOLDER_DOMAIN}"
            ctx.report.note("user", row["id"], _("no email address: given %(e)s") % {"e": email})
        if extra:
            ctx.report.note("user", row["id"], _("more addresses kept in a note: %(a)s") % {"a": ", ".join(extra)})
        existing = User.objects.filter(email=email).first()
        if existing is not None and existing.agent_or_none is not None:
            ctx.report.note("user", row["id"], _("same address as an agent: one account"))
        user = existing or _person(email, row["name"] or "")
        fill(user, row, extra)
        return user.pk

    def update(row: Row, target: int) -> None:
        user = User.objects.filter(pk=target).first()
        if user is None:
            raise Skip(_("the user was deleted in Tessera"))
        _email, extra = addresses(row)
        fill(user, row, extra)

    sync(
        ctx,
        "user",
        src.batches("user", "id"),
        pk="id",
        total=total,
        create=create,
        update=update,
        prepare=prepare,
        digest=digest,
        create_many=create_many,
    )
    # Addresses and portal accounts come over with their users (primary → the sign-in address,
    # others → a note on the user); each is accounted for under its own table.
    for table, where in (("user_email", "1=1"), ("user_account", "1=1")):
        n = src.count(table, where)
        ctx.report.expect(table, n)
        mapped = src.count(table, "user_id IN (SELECT id FROM " + src.t("user") + ")") if n else 0  # noqa: S608  table names are ours
        ctx.report.folded(table, mapped, "user")
        if n - mapped:
            ctx.report.skip_all(table, n - mapped, _("belongs to no user"))
