"""The desk the permission matrix asks its questions about, and how each URL's arguments are filled.

Each persona looks at a *subject ticket*: Ken's ticket in Support for everyone except the persona
"bill_requester", who looks at the Support ticket Bill (a Billing agent) opened himself by email.
Both tickets came in by email (so each has a received message for /staff/mail/received/<id>/) and
both carry an internal note by John with a file attached (the file every download URL asks for:
the one that must never reach anyone who is not an agent of the ticket).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

PERSONAS = ("anonymous", "ken", "mary", "bill", "bill_requester", "john", "manager", "admin")


@dataclass
class Subject:
    """One ticket as one persona reaches it: the values URL arguments are filled from."""

    ticket: Any
    note_file: int  # an attachment on an internal note
    received: int  # the InboundMessage that opened the ticket
    token: str  # the requester's access link
    task: int = 0  # the number of a task on the ticket (tessera.tasks), created by John


def _mail(sender: str, subject: str) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "support@example.com"
    m["Subject"] = subject
    m["Date"] = formatdate(localtime=False)
    m["Message-ID"] = make_msgid(domain="client.example")
    m.set_content("Please help.")
    return m.as_bytes()


def build(desk) -> SimpleNamespace:
    """Build the scene on top of the shared `desk` fixture (John, Jane, Bill, Ken, Ada Admin)."""
    from django.test import Client

    from tessera.accounts.models import Agent, DirectoryNote, Membership, Organization, Role, User
    from tessera.api import keys as api_keys
    from tessera.audit.models import UserSession
    from tessera.mail import ingest as inbox
    from tessera.mail.models import EmailTemplate
    from tessera.rules.models import Rule
    from tessera.staff import services as queue_services
    from tessera.tasks import services as task_services
    from tessera.tickets import access_links, services
    from tessera.tickets.attachments import Upload
    from tessera.tickets.models import Attachment, Status

    mary = User.objects.create_user("mary@example.net", desk.password, name="Mary Major")
    manager_user = User.objects.create_user("mia@example.com", desk.password, name="Mia Manager")
    manager = Agent.objects.create(user=manager_user)
    Membership.objects.create(
        agent=manager, department=desk.support, role=Role.objects.get(name="Manager"), is_primary=True
    )
    Agent.objects.create(user=desk.admin)  # the administrator also works tickets, as in seed_demo
    # Rows for the admin's change/history/delete pages of each app's first registered model.
    EmailTemplate.objects.create(notice="resolved", subject="Your ticket is resolved", body="We resolved it.")
    rule = Rule.objects.create(name="Printers to Support", order=1, is_active=False)
    api_keys.issue_key(name="Monitoring", created_by=desk.admin, scopes=["tickets:read"])

    def subject_for(sender: str, title: str) -> Subject:
        row = inbox.ingest(_mail(sender, title), channel="pipe")
        ticket = row.ticket
        assert ticket is not None, f"{title!r} should have opened a ticket"
        entry = services.add_note(
            desk.john.user,
            ticket,
            note="Internal: the customer's contract is under review.",
            uploads=[Upload("contract-review.txt", b"internal only", "text/plain")],
        )
        task = task_services.create_task(desk.john.user, ticket=ticket, title="Check the tray")
        ticket.refresh_from_db()
        return Subject(
            ticket=ticket,
            note_file=Attachment.objects.get(entry=entry).pk,
            received=row.pk,
            token=access_links.make_token(ticket, ticket.user),
            task=task.number,
        )

    kens = subject_for("Ken Adams <ken@example.com>", "Printer jams")
    bills = subject_for("Bill Payne <bill@example.com>", "My own laptop is broken")
    assert bills.ticket.user_id == desk.bill.user.pk and bills.ticket.department_id == desk.support.pk
    other = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Scanner too", message="Same tray.", topic=desk.general
    )
    # John's other signed-in browser, for ending a session from the list.
    other_browser = Client()
    other_browser.force_login(desk.john.user)
    john_session = UserSession.objects.get(session_key=other_browser.session.session_key)
    saved = queue_services.create_saved_queue(desk.john.user, name="John's urgent", params={"sort": "-updated"})
    # A canned response shared with Support, with a file: Mia (Manager) and the administrator
    # manage it; Support's agents use it on Ken's ticket.
    from tessera.canned import services as canned_services

    canned = canned_services.save_response(
        desk.admin,
        None,
        title="Printer tray",
        body="Hello %{user.first_name}, try the other tray.",
        departments=[desk.support],
        uploads=[Upload("tray-guide.txt", b"Open tray 2.", "text/plain")],
    )
    # The knowledge base: an internal category holding an internal article with a file and one
    # earlier version (agents read it; everyone else gets 404), written by the administrator.
    from tessera.kb import services as kb_services

    kb_category = kb_services.save_category(None, None, name="Matrix desk notes", is_public=False)
    kb_article = kb_services.create_article(
        desk.admin, title="Matrix internal", body="First.", category=kb_category, is_public=False
    )
    kb_article = kb_services.save_article(
        desk.admin,
        kb_article,
        title="Matrix internal",
        body="Second.",
        category=kb_category,
        is_public=False,
        uploads=[Upload("kb-guide.txt", b"Guide.", "text/plain")],
    )
    # The people directory: an organisation, and John's note about Ken.
    organization = Organization.objects.create(name="Matrix Corp")
    note = DirectoryNote.objects.create(user=desk.ken, author=desk.john.user, body="Prefers email.")
    # Custom fields: one asked on every ticket, one about users (customfields' panels and edits).
    from tessera.customfields.models import Field, Form, Target

    every_ticket = Form.objects.create(title="Every ticket", for_all_tickets=True)
    Field.objects.create(form=every_ticket, key="asset", label="Asset tag")
    about_people = Form.objects.create(title="People", target=Target.USER)
    Field.objects.create(form=about_people, key="badge", label="Badge")
    users = {
        "anonymous": None,
        "ken": desk.ken,
        "mary": mary,
        "bill": desk.bill.user,
        "bill_requester": desk.bill.user,
        "john": desk.john.user,
        "manager": manager_user,
        "admin": desk.admin,
    }
    return SimpleNamespace(
        desk=desk,
        users=users,
        subjects={p: (bills if p == "bill_requester" else kens) for p in PERSONAS},
        other=other,
        saved=saved,
        john_session=john_session,
        archived=Status.objects.get(state="archived"),
        reset_uid=urlsafe_base64_encode(force_bytes(desk.ken.pk)),
        department_type=ContentType.objects.get_for_model(desk.support).pk,
        rule=rule,
        canned=canned,
        canned_file=canned.attachments.get().pk,
        kb_category=kb_category,
        kb_article=kb_article,
        organization=organization,
        note=note,
    )


# ---------------------------------------------------------------------------- URL arguments

# Filled by URL name first, then by parameter name; an unknown parameter fails the test and says
# to add a filler here. Each filler gets (scene, subject) and returns the value.
Filler = Callable[[SimpleNamespace, Subject], Any]

BY_NAME: dict[tuple[str, str], Filler] = {
    ("mail:original", "pk"): lambda s, sub: sub.received,
    ("staff:ticket_action", "action"): lambda s, sub: "note",
    ("staff:ticket_property", "name"): lambda s, sub: "priority",
    ("staff:ticket_sla", "what"): lambda s, sub: "due",
    ("tasks:task", "number"): lambda s, sub: sub.task,
    ("tasks:task_action", "number"): lambda s, sub: sub.task,
    ("tasks:task_action", "action"): lambda s, sub: "note",
    ("admin:view_on_site", "content_type_id"): lambda s, sub: s.department_type,
    ("admin:view_on_site", "object_id"): lambda s, sub: s.desk.support.pk,
    ("admin:app_list", "app_label"): lambda s, sub: "accounts",
    # Made when asked: signing in as Ken (an earlier persona) changes his last_login, which the token covers.
    ("portal:password_reset_confirm", "token"): lambda s, sub: default_token_generator.make_token(
        type(s.desk.ken).objects.get(pk=s.desk.ken.pk)
    ),
    ("admin:auth_user_password_change", "id"): lambda s, sub: s.desk.ken.pk,
    ("account_sessions:end", "pk"): lambda s, sub: s.john_session.pk,
    ("admin:rules_rule_test", "rule_id"): lambda s, sub: s.rule.pk,
    # The API's directory: each item URL names an existing row (the refusal comes before the lookup).
    ("api-v1:user", "user_id"): lambda s, sub: s.desk.ken.pk,
    ("api-v1:organisation", "organisation_id"): lambda s, sub: 1,
    ("api-v1:agent", "agent_id"): lambda s, sub: s.desk.john.pk,
    ("api-v1:department", "department_id"): lambda s, sub: s.desk.support.pk,
    ("api-v1:team", "team_id"): lambda s, sub: 1,
    ("api-v1:topic", "topic_id"): lambda s, sub: s.desk.general.pk,
    ("api-v1:priority", "priority_id"): lambda s, sub: s.desk.sev_a.pk,
    ("api-v1:status", "status_id"): lambda s, sub: s.archived.pk,
    ("api-v1:sla_plan", "plan_id"): lambda s, sub: 1,
    ("api-v1:routing_rule", "rule_id"): lambda s, sub: s.rule.pk,
    ("api-v1:kb_article", "article_id"): lambda s, sub: s.kb_article.pk,
    ("canned:edit", "pk"): lambda s, sub: s.canned.pk,
    ("canned:delete", "pk"): lambda s, sub: s.canned.pk,
    ("canned:render", "pk"): lambda s, sub: s.canned.pk,
    ("canned:file", "file_id"): lambda s, sub: s.canned_file,
    ("customfields:ticket_field", "key"): lambda s, sub: "asset",
    ("kb:category", "slug"): lambda s, sub: s.kb_category.slug,
    ("kb:article", "slug"): lambda s, sub: s.kb_article.slug,
    ("kb:feedback", "slug"): lambda s, sub: s.kb_article.slug,
    ("kb:answered", "slug"): lambda s, sub: s.kb_article.slug,
    ("kb:file", "slug"): lambda s, sub: s.kb_article.slug,
    ("kb:file", "file_id"): lambda s, sub: s.kb_article.attachments.get().pk,
    ("kb_staff:edit", "pk"): lambda s, sub: s.kb_article.pk,
    ("kb_staff:delete", "pk"): lambda s, sub: s.kb_article.pk,
    ("kb_staff:history", "pk"): lambda s, sub: s.kb_article.pk,
    ("kb_staff:version", "pk"): lambda s, sub: s.kb_article.pk,
    ("kb_staff:version", "version_id"): lambda s, sub: s.kb_article.versions.get().pk,
    ("kb_staff:picker_article", "pk"): lambda s, sub: s.kb_article.pk,
    ("kb_staff:category", "pk"): lambda s, sub: s.kb_category.pk,
    ("kb_staff:file", "file_id"): lambda s, sub: s.kb_article.attachments.get().pk,
    ("customfields:person_values", "kind"): lambda s, sub: "user",
    ("customfields:person_values", "pk"): lambda s, sub: s.desk.ken.pk,
    ("customfields:person_field", "kind"): lambda s, sub: "user",
    ("customfields:person_field", "pk"): lambda s, sub: s.desk.ken.pk,
    ("customfields:person_field", "key"): lambda s, sub: "badge",
    ("satisfaction:rate", "token"): lambda s, sub: _rating_token(sub),
}


def _rating_token(sub: Subject) -> str:
    """A rating link for the subject's ticket (still open, so rating it is refused)."""
    from tessera.satisfaction import tokens
    from tessera.satisfaction.models import Survey

    survey, _new = Survey.objects.get_or_create(
        ticket=sub.ticket, defaults={"requester": sub.ticket.user, "department": sub.ticket.department}
    )
    return tokens.token_for(survey)


BY_PARAMETER: dict[str, Filler] = {
    "number": lambda s, sub: sub.ticket.number,
    "attachment_id": lambda s, sub: sub.note_file,
    "token": lambda s, sub: sub.token,
    "pk": lambda s, sub: s.saved.pk,  # staff:saved_queue*
    "slug": lambda s, sub: "open",  # staff:queue*
    "uidb64": lambda s, sub: s.reset_uid,
    "user_id": lambda s, sub: s.desk.ken.pk,  # api-v1:ticket_remove_collaborator
    "other_number": lambda s, sub: s.other.number,  # api-v1:ticket_unlink
    "org_id": lambda s, sub: s.organization.pk,  # staff:organisation*
    "note_id": lambda s, sub: s.note.pk,  # staff:directory_note_delete
}


def fill(name: str, parameters: list[str], scene: SimpleNamespace, subject: Subject) -> dict[str, Any]:
    values = {}
    for parameter in parameters:
        filler = BY_NAME.get((name, parameter)) or BY_PARAMETER.get(parameter)
        assert filler, (
            f"{name}: no value for URL parameter <{parameter}>; add a filler to BY_NAME or BY_PARAMETER "
            "in tests/security/matrix_scene.py"
        )
        values[parameter] = filler(scene, subject)
    return values


# ---------------------------------------------------------------------------- POST bodies

# A POST that would succeed for a persona who is allowed, so a refusal means the policy refused,
# not that the form was empty. URLs not listed get an empty POST.
POST_BODIES: dict[str, Callable[[SimpleNamespace, Subject], dict]] = {
    "staff:ticket_action": lambda s, sub: {"note-note": "Matrix note", "note-version": sub.ticket.version},
    "i18n:choose_language": lambda s, sub: {"language": "de", "next": "/"},
    "staff:ticket_property": lambda s, sub: {"props-priority": s.desk.sev_a.pk, "props-version": sub.ticket.version},
    "staff:ticket_properties": lambda s, sub: {"props-priority": s.desk.sev_a.pk, "props-version": sub.ticket.version},
    "staff:ticket_property_undo": lambda s, sub: {"token": "forged"},
    "staff:ticket_sla": lambda s, sub: {"sla-due": "2099-01-04T09:00", "sla-version": sub.ticket.version},
    "staff:bulk": lambda s, sub: {
        "tickets": [sub.ticket.number],
        "bulk-action": "status",
        "bulk-status": s.archived.pk,
        "bulk-next": "/staff/queues/open/",
    },
    "staff:ticket_merge": lambda s, sub: {"merge-number": s.other.number, "merge-version": sub.ticket.version},
    "staff:ticket_link": lambda s, sub: {"link-number": s.other.number},
    "staff:ticket_unlink": lambda s, sub: {"unlink-number": s.other.number},
    "staff:saved_queue_rename": lambda s, sub: {"name": "Renamed by the matrix"},
    "staff:saved_queue_create": lambda s, sub: {"name": "Matrix queue"},
    "staff:density": lambda s, sub: {"density": "compact", "next": "/staff/queues/open/"},
    "canned:create": lambda s, sub: {
        "title": "Matrix answer",
        "body": "Hi %{user.name}.",
        "departments": [s.desk.support.pk],
    },
    "canned:edit": lambda s, sub: {
        "title": "Matrix answer",
        "body": "Hi %{user.name}.",
        "departments": [s.desk.support.pk],
    },
    "portal:ticket": lambda s, sub: {"message": "Matrix reply", "version": sub.ticket.version},
    "tasks:new": lambda s, sub: {"title": "Matrix task", "department": s.desk.support.pk},
    "tasks:task_action": lambda s, sub: {"note-note": "Matrix task note", "note-version": 1},
    "staff:person_edit": lambda s, sub: {"name": "Ken Adams", "email": "ken@example.com"},
    "staff:person_note": lambda s, sub: {"body": "Matrix note"},
    "staff:organisation_note": lambda s, sub: {"body": "Matrix note"},
    "staff:organisation_create": lambda s, sub: {"name": "Matrix Two"},
    "staff:organisation_edit": lambda s, sub: {"name": "Matrix Corp", "domains": "matrix.example"},
    "portal:access": lambda s, sub: {"message": "Matrix reply", "version": sub.ticket.version},
    "staff:new_ticket": lambda s, sub: {
        "requester": s.desk.ken.pk,
        "source": "phone",
        "topic": s.desk.general.pk,
        "subject": "Matrix phone call",
        "message": "Ken phoned.",
    },
    "customfields:ticket_field": lambda s, sub: {"cf_asset": "AB-1", "version": sub.ticket.version},
    "customfields:person_field": lambda s, sub: {"cf_badge": "Badge 7"},
    "kb:feedback": lambda s, sub: {"helpful": "yes"},
    "kb_staff:create": lambda s, sub: {"title": "Matrix article", "body": "Matrix text.", "is_public": "on"},
    "kb_staff:edit": lambda s, sub: {"title": "Matrix internal", "body": "Third.", "category": s.kb_category.pk},
    "kb_staff:preview": lambda s, sub: {"body": "**Matrix**"},
    "kb_staff:categories": lambda s, sub: {"name": "Matrix category", "is_public": "on"},
    "kb_staff:category": lambda s, sub: {"name": "Matrix desk notes"},
    "satisfaction:rate": lambda s, sub: {"score": "5", "comment": "Matrix rating"},
}
