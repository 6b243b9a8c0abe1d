"""Every named URL × every persona × GET and POST answers what the table below says.

How it works
- The routes come from `django.urls.get_resolver()`, walked recursively through every include and
  namespace; every *named* route is a row (unnamed ones, `favicon.ico` and the admin's catch-all,
  serve nothing a persona could abuse). A named route without a row in EXPECTED fails
  `test_every_named_url_has_a_row` with the line to add.
- The admin is covered generically rather than by listing its hundreds of routes: its own pages
  (index, login, app list, …) are rows like any other, and the five pages Django generates for
  every registered model (changelist, add, change, history, delete) share the five rows
  "admin:<model>_changelist" … "admin:<model>_delete". They are asked for one model per app (the
  first one registered: accounts' users, tickets' priorities, mail's email templates, the task
  results), on one existing object of it (the scene creates an email template;
  task results have none, so only their changelist and add form are asked). All of them go through
  the same `admin_view` wrapper, which is what the rows are about. A model whose answers differ gets
  its own row under its real URL name, which wins over the shared one.
- URL arguments are filled from the scene in matrix_scene.py (Ken's Support ticket, or Bill's own
  Support ticket for the persona "bill_requester"); file URLs name an internal-note attachment.
- POSTs carry a body that would succeed for someone allowed (matrix_scene.POST_BODIES), through a
  client without CSRF checks (CSRF has its own tests). Each request runs in a savepoint that is
  rolled back, so every cell sees the same desk.
- Whenever the expected answer is a refusal (REDIRECT_LOGIN, FORBIDDEN, NOT_FOUND,
  METHOD_NOT_ALLOWED, INVALID) or is wrapped in `unchanged(...)`, the test also checks that the
  POST changed nothing: the row count of every Tessera table, every ticket row and every saved queue.

Adding a row is one line: `"app:name": row(...)`, usually starting from one of the shared rows.
A cell that is wrong today because of a known issue is wrapped in `known(OUTCOME, "issue N item M")`:
it becomes its own test marked xfail(strict=True); remove the wrapper once the fix is merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from django.apps import apps
from django.conf import settings
from django.contrib import admin as django_admin
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tessera import process_memo

from . import matrix_scene
from .matrix_scene import PERSONAS

# The module-scoped desk is made once: xdist keeps these tests on one worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("permission_matrix")

# ---------------------------------------------------------------------------- vocabulary

OK = "OK"  # 2xx
REDIRECT = "REDIRECT"  # 3xx anywhere but a sign-in page (after a successful POST, or to a canonical URL)
REDIRECT_LOGIN = "REDIRECT_LOGIN"  # 3xx to /login/, /staff/login/ or /admin/login/
FORBIDDEN = "FORBIDDEN"  # 403
NOT_FOUND = "NOT_FOUND"  # 404
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"  # 405
INVALID = "INVALID"  # 400: allowed in, but the body was refused
UNAUTHENTICATED = "UNAUTHENTICATED"  # 401: the API wants a key, whoever is signed in
STOP_POLLING = "STOP_POLLING"  # 286: htmx stops polling (the sidebar counts, for a browser that is not an agent's)
REFUSALS = {REDIRECT_LOGIN, FORBIDDEN, NOT_FOUND, METHOD_NOT_ALLOWED, INVALID, UNAUTHENTICATED}
LOGIN_PATHS = ("/login/", "/staff/login/", "/admin/login/")


@dataclass(frozen=True)
class Cell:
    outcome: str
    unchanged: bool = False  # the POST must leave the database as it was
    issue: str = ""  # wrong today because of this known issue: xfail(strict=True)

    @property
    def must_not_change(self) -> bool:
        return self.unchanged or self.outcome in REFUSALS


def unchanged(outcome: str) -> Cell:
    """This answer (usually a redirect back with an error message) must come with no change at all."""
    return Cell(outcome, unchanged=True)


def known(expected: str | Cell, issue: str) -> Cell:
    cell = expected if isinstance(expected, Cell) else Cell(expected)
    return Cell(cell.outcome, cell.unchanged, issue)


def row(default=None, **cells) -> dict[str, tuple[Cell, Cell]]:
    """One URL's answers: `default` for every persona not named; each value is one outcome for both
    methods, or a (GET, POST) pair."""
    out: dict[str, tuple[Cell, Cell]] = {}
    for persona in PERSONAS:
        value = cells.get(persona, default)
        assert value is not None, f"no answer for {persona}"
        get, post = value if isinstance(value, tuple) else (value, value)
        out[persona] = (get if isinstance(get, Cell) else Cell(get), post if isinstance(post, Cell) else Cell(post))
    assert not set(cells) - set(PERSONAS), f"unknown personas {set(cells) - set(PERSONAS)}"
    return out


# ---------------------------------------------------------------------------- shared rows

GET_ONLY = (OK, METHOD_NOT_ALLOWED)
# The workspace sends visitors to its sign-in and turns end users away with a 403 page; a GET-only
# or POST-only view answers 405 to the other method before asking who is there.
WORKSPACE_GET = {"anonymous": (REDIRECT_LOGIN, METHOD_NOT_ALLOWED), "ken": (FORBIDDEN, METHOD_NOT_ALLOWED)}
WORKSPACE_GET["mary"] = WORKSPACE_GET["ken"]
WORKSPACE_POST = {"anonymous": (METHOD_NOT_ALLOWED, REDIRECT_LOGIN), "ken": (METHOD_NOT_ALLOWED, FORBIDDEN)}
WORKSPACE_POST["mary"] = WORKSPACE_POST["ken"]
AGENTS = ("bill", "bill_requester", "john", "manager", "admin")
# Agents outside the ticket's department (Bill; Bill on the Support ticket he requested) get 404.
OUTSIDE_AGENTS_GET = {"bill": (NOT_FOUND, METHOD_NOT_ALLOWED), "bill_requester": (NOT_FOUND, METHOD_NOT_ALLOWED)}
OUTSIDE_AGENTS_POST = {"bill": (METHOD_NOT_ALLOWED, NOT_FOUND), "bill_requester": (METHOD_NOT_ALLOWED, NOT_FOUND)}
# The admin is for administrators: everyone else is sent to its sign-in.
ADMIN_ONLY = {p: REDIRECT_LOGIN for p in PERSONAS if p != "admin"}

# The REST API lets nobody in by their browser session: every operation wants a key, so a
# signed-in agent or administrator without one gets 401 like a stranger (and no CSRF-able path
# exists). Its own tests (tests/api/) cover what keys may do. The schema and the docs are public.
API_KEY_ONLY = row(UNAUTHENTICATED)
API_GET_KEY_ONLY = row((UNAUTHENTICATED, METHOD_NOT_ALLOWED))
OSTICKET = row((INVALID, UNAUTHENTICATED))
API_POST_KEY_ONLY = row((METHOD_NOT_ALLOWED, UNAUTHENTICATED))
# DELETE-only operations: GET and POST are 405 before anyone is asked for a key.
API_DELETE_ONLY = row(METHOD_NOT_ALLOWED)

# ---------------------------------------------------------------------------- the table

M = METHOD_NOT_ALLOWED

EXPECTED: dict[str, dict[str, tuple[Cell, Cell]]] = {
    # ------------------------------------------------------------ the workspace (/staff/)
    "staff:login": row(OK, **{a: (REDIRECT, OK) for a in AGENTS}),
    "staff:logout": row((M, REDIRECT_LOGIN)),
    "staff:dashboard": row(GET_ONLY, **WORKSPACE_GET),
    "staff:queue_counts": row(GET_ONLY, anonymous=(STOP_POLLING, M), ken=(STOP_POLLING, M), mary=(STOP_POLLING, M)),
    "staff:queue": row(GET_ONLY, **WORKSPACE_GET),
    "staff:queue_arrivals": row(GET_ONLY, **WORKSPACE_GET),
    "staff:jump": row((REDIRECT, M), **WORKSPACE_GET),
    "staff:search": row(GET_ONLY, **WORKSPACE_GET),
    # The priority colours' stylesheet names no priority and no one: public, like a static file.
    "staff:priority_css": row(GET_ONLY),
    "staff:profile": row((OK, INVALID), anonymous=REDIRECT_LOGIN, ken=FORBIDDEN, mary=FORBIDDEN),
    # Row density: each agent changes only their own (the view names no one else).
    "staff:density": row((M, REDIRECT), **WORKSPACE_POST),
    # Saved queues are John's own: everyone else's answer is 404, as if there were none.
    "staff:saved_queue_create": row((M, REDIRECT), **WORKSPACE_POST),
    "staff:saved_queue": row((NOT_FOUND, M), **WORKSPACE_GET, john=GET_ONLY),
    "staff:saved_queue_arrivals": row((NOT_FOUND, M), **WORKSPACE_GET, john=GET_ONLY),
    "staff:saved_queue_rename": row((M, NOT_FOUND), **WORKSPACE_POST, john=(M, REDIRECT)),
    "staff:saved_queue_update": row((M, NOT_FOUND), **WORKSPACE_POST, john=(M, REDIRECT)),
    "staff:saved_queue_delete": row((M, NOT_FOUND), **WORKSPACE_POST, john=(M, REDIRECT)),
    "staff:saved_queue_share": row((M, NOT_FOUND), **WORKSPACE_POST, john=(M, REDIRECT)),
    # The ticket: its department's agents, the manager and the administrator; 404 to other agents,
    # also to an agent who requested it (he follows it on the portal).
    "staff:ticket": row(GET_ONLY, **WORKSPACE_GET, **OUTSIDE_AGENTS_GET),
    "staff:ticket_presence": row(GET_ONLY, **WORKSPACE_GET, **OUTSIDE_AGENTS_GET),
    # The properties panel: POST only; its department's agents change the priority (a redirect
    # without htmx, PRG); an undo without a valid token is refused (400) and changes nothing.
    "staff:ticket_property": row((M, REDIRECT), **WORKSPACE_POST, **OUTSIDE_AGENTS_POST),
    "staff:ticket_properties": row((M, REDIRECT), **WORKSPACE_POST, **OUTSIDE_AGENTS_POST),
    "staff:ticket_property_undo": row((M, INVALID), **WORKSPACE_POST, **OUTSIDE_AGENTS_POST),
    # The panel's service level (sla_views): an own due date, as the priority's right allows.
    "staff:ticket_sla": row((M, REDIRECT), **WORKSPACE_POST, **OUTSIDE_AGENTS_POST),
    "staff:ticket_action": row(
        REDIRECT,  # GET sends back to the ticket page; POST adds the note and redirects (PRG)
        anonymous=REDIRECT_LOGIN,
        ken=FORBIDDEN,
        mary=FORBIDDEN,
        bill=(REDIRECT, NOT_FOUND),
        bill_requester=(REDIRECT, NOT_FOUND),
    ),
    # Tickets opened by agents: every agent has the page; a ticket goes only where they may open
    # one (Bill works in Billing, the body names a Support topic: refused, nothing made).
    "staff:new_ticket": row(
        (OK, REDIRECT),
        anonymous=REDIRECT_LOGIN,
        ken=FORBIDDEN,
        mary=FORBIDDEN,
        bill=(OK, INVALID),
        bill_requester=(OK, INVALID),
    ),
    # The people lookup for its requester box: any agent (end users only are listed).
    "staff:people_lookup": row(GET_ONLY, **WORKSPACE_GET),
    "staff:ticket_lock": row((M, OK), **WORKSPACE_POST, **OUTSIDE_AGENTS_POST),
    "staff:ticket_unlock": row((M, OK), **WORKSPACE_POST, **OUTSIDE_AGENTS_POST),
    "staff:attachment": row(GET_ONLY, **WORKSPACE_GET, bill=(NOT_FOUND, M), bill_requester=(NOT_FOUND, M)),
    # Bulk, merge and link answer with a redirect back and a message, allowed or not: a refusal
    # must change nothing. Merging needs the Manager role.
    "staff:bulk": row(
        (M, REDIRECT),
        **WORKSPACE_POST,
        bill=(M, unchanged(REDIRECT)),
        bill_requester=(M, unchanged(REDIRECT)),
    ),
    "staff:ticket_merge": row((M, unchanged(REDIRECT)), **WORKSPACE_POST, manager=(M, REDIRECT), admin=(M, REDIRECT)),
    "staff:ticket_link": row(
        (M, REDIRECT), **WORKSPACE_POST, bill=(M, unchanged(REDIRECT)), bill_requester=(M, unchanged(REDIRECT))
    ),
    "staff:ticket_unlink": row((M, unchanged(REDIRECT)), **WORKSPACE_POST),  # nothing is linked yet
    # Tasks (tessera.tasks): the queues for every agent; a task on the subject ticket for those who
    # work that ticket, 404 to other agents (Bill; Bill on the ticket he requested). Any agent whose
    # role creates tasks may create one of its own (in any department, as in osTicket).
    "tasks:queue": row(GET_ONLY, **WORKSPACE_GET),
    "tasks:mine": row(GET_ONLY, **WORKSPACE_GET),
    "tasks:new": row((OK, REDIRECT), anonymous=REDIRECT_LOGIN, ken=FORBIDDEN, mary=FORBIDDEN),
    "tasks:task": row(GET_ONLY, **WORKSPACE_GET, **OUTSIDE_AGENTS_GET),
    "tasks:task_action": row((M, REDIRECT), **WORKSPACE_POST, **OUTSIDE_AGENTS_POST),
    # The original of a mail: agents who work the ticket; Bill, its requester, sees his own
    # (public) message's original, as the portal would show him the message.
    "mail:original": row(GET_ONLY, **WORKSPACE_GET, bill=(NOT_FOUND, M)),
    # ------------------------------------------------------------ canned responses (/staff/canned/)
    # Managed by agents whose role grants it where the response is shared (Mia, the Manager of
    # Support) and administrators; other agents get 403 on the pages and 404 for a response.
    "canned:list": row(
        GET_ONLY, **WORKSPACE_GET, bill=(FORBIDDEN, M), bill_requester=(FORBIDDEN, M), john=(FORBIDDEN, M)
    ),
    "canned:create": row(
        (OK, REDIRECT),
        anonymous=REDIRECT_LOGIN,
        ken=FORBIDDEN,
        mary=FORBIDDEN,
        bill=FORBIDDEN,
        bill_requester=FORBIDDEN,
        john=FORBIDDEN,
    ),
    "canned:edit": row(
        (OK, REDIRECT),
        anonymous=REDIRECT_LOGIN,
        ken=FORBIDDEN,
        mary=FORBIDDEN,
        bill=NOT_FOUND,
        bill_requester=NOT_FOUND,
        john=NOT_FOUND,
    ),
    "canned:delete": row(
        (OK, REDIRECT),
        anonymous=REDIRECT_LOGIN,
        ken=FORBIDDEN,
        mary=FORBIDDEN,
        bill=NOT_FOUND,
        bill_requester=NOT_FOUND,
        john=NOT_FOUND,
    ),
    "canned:file": row(
        GET_ONLY, **WORKSPACE_GET, bill=(NOT_FOUND, M), bill_requester=(NOT_FOUND, M), john=(NOT_FOUND, M)
    ),
    # The reply box's picker: whoever may reply to the ticket; 404 to agents outside it.
    "canned:picker": row(GET_ONLY, **WORKSPACE_GET, **OUTSIDE_AGENTS_GET),
    "canned:render": row(GET_ONLY, **WORKSPACE_GET, **OUTSIDE_AGENTS_GET),
    # ------------------------------------------------------------ the knowledge base (/kb/, /staff/kb/; kb.policy)
    # The Help Center's pages are public; the scene's article and category are internal, so only
    # agents and administrators read them (404 to everyone else, as if they did not exist).
    "kb:home": row(GET_ONLY),
    "kb:search": row(GET_ONLY),
    "kb:suggest": row(GET_ONLY),
    "kb:category": row((NOT_FOUND, M), **dict.fromkeys(AGENTS, GET_ONLY)),
    "kb:article": row((NOT_FOUND, M), **dict.fromkeys(AGENTS, GET_ONLY)),
    "kb:file": row((NOT_FOUND, M), **dict.fromkeys(AGENTS, GET_ONLY)),
    "kb:feedback": row((M, NOT_FOUND), **dict.fromkeys(AGENTS, (M, REDIRECT))),
    "kb:answered": row((M, NOT_FOUND), **dict.fromkeys(AGENTS, (M, REDIRECT))),
    # Every agent reads the knowledge base and uses the reply box's picker; writing takes Perm.KB
    # (the Manager role, Mia; administrators): 403 to other agents.
    "kb_staff:list": row(GET_ONLY, **WORKSPACE_GET),
    "kb_staff:history": row(GET_ONLY, **WORKSPACE_GET),
    "kb_staff:picker": row(GET_ONLY, **WORKSPACE_GET),
    "kb_staff:picker_article": row(GET_ONLY, **WORKSPACE_GET),
    "kb_staff:file": row(GET_ONLY, **WORKSPACE_GET),
    "kb_staff:preview": row((M, OK), **WORKSPACE_POST),
    "kb_staff:create": row(
        (OK, REDIRECT),
        anonymous=REDIRECT_LOGIN,
        **dict.fromkeys(("ken", "mary", "bill", "bill_requester", "john"), FORBIDDEN),
    ),
    "kb_staff:edit": row(
        (OK, REDIRECT),
        anonymous=REDIRECT_LOGIN,
        ken=FORBIDDEN,
        mary=FORBIDDEN,
        **dict.fromkeys(("bill", "bill_requester", "john"), (OK, FORBIDDEN)),
    ),
    "kb_staff:version": row(
        (OK, REDIRECT),
        anonymous=REDIRECT_LOGIN,
        ken=FORBIDDEN,
        mary=FORBIDDEN,
        **dict.fromkeys(("bill", "bill_requester", "john"), (OK, FORBIDDEN)),
    ),
    "kb_staff:delete": row(
        (OK, REDIRECT),
        anonymous=REDIRECT_LOGIN,
        **dict.fromkeys(("ken", "mary", "bill", "bill_requester", "john"), FORBIDDEN),
    ),
    "kb_staff:categories": row(
        (OK, REDIRECT),
        anonymous=REDIRECT_LOGIN,
        **dict.fromkeys(("ken", "mary", "bill", "bill_requester", "john"), FORBIDDEN),
    ),
    "kb_staff:category": row(
        (OK, REDIRECT),
        anonymous=REDIRECT_LOGIN,
        **dict.fromkeys(("ken", "mary", "bill", "bill_requester", "john"), FORBIDDEN),
    ),
    # ------------------------------------------------------------ the people directory (staff/directory_views.py)
    # Every agent reads it and changes end users (Ken) and writes notes; a note is deleted by its
    # author (John) or an administrator; organisations are created and changed by administrators,
    # who alone export the directory. End users and visitors never get in.
    "staff:people": row(GET_ONLY, **WORKSPACE_GET),
    "staff:person": row(GET_ONLY, **WORKSPACE_GET),
    "staff:person_edit": row((OK, REDIRECT), anonymous=REDIRECT_LOGIN, ken=FORBIDDEN, mary=FORBIDDEN),
    "staff:person_note": row((M, REDIRECT), **WORKSPACE_POST),
    "staff:directory_note_delete": row((M, FORBIDDEN), **WORKSPACE_POST, john=(M, REDIRECT), admin=(M, REDIRECT)),
    # An empty upload is refused with the form (400); a confirm without a previewed token likewise.
    "staff:people_import": row((OK, INVALID), anonymous=REDIRECT_LOGIN, ken=FORBIDDEN, mary=FORBIDDEN),
    "staff:people_import_confirm": row((M, INVALID), **WORKSPACE_POST),
    "staff:people_export": row((FORBIDDEN, M), **WORKSPACE_GET, admin=GET_ONLY),
    "staff:organisations": row(GET_ONLY, **WORKSPACE_GET),
    "staff:organisation": row(GET_ONLY, **WORKSPACE_GET),
    "staff:organisation_create": row(FORBIDDEN, anonymous=REDIRECT_LOGIN, admin=(OK, REDIRECT)),
    "staff:organisation_edit": row(FORBIDDEN, anonymous=REDIRECT_LOGIN, admin=(OK, REDIRECT)),
    "staff:organisation_note": row((M, REDIRECT), **WORKSPACE_POST),
    "staff:organisations_export": row((FORBIDDEN, M), **WORKSPACE_GET, admin=GET_ONLY),
    # ------------------------------------------------------------ custom fields (/fields/)
    # The fields a topic asks: public, like the portal's form (agents-only fields need ?audience=agent).
    "customfields:topic_fields": row(GET_ONLY),
    # The ticket's answers: the ticket page's agents (a plain GET goes back to the ticket page);
    # editing one takes the manage right, which the Agent role holds.
    "customfields:ticket_values": row((REDIRECT, M), **WORKSPACE_GET, **OUTSIDE_AGENTS_GET),
    "customfields:ticket_field": row(
        (OK, REDIRECT),
        anonymous=REDIRECT_LOGIN,
        ken=FORBIDDEN,
        mary=FORBIDDEN,
        bill=NOT_FOUND,
        bill_requester=NOT_FOUND,
    ),
    # A user's answers: any agent, as for the person's other details.
    "customfields:person_values": row(GET_ONLY, **WORKSPACE_GET),
    "customfields:person_field": row((OK, REDIRECT), anonymous=REDIRECT_LOGIN, ken=FORBIDDEN, mary=FORBIDDEN),
    # ------------------------------------------------------------ accounts: sessions and second factors
    # Ending a session: one's own only (John's other browser); anyone else's is 404.
    "account_sessions:end": row((M, NOT_FOUND), anonymous=(M, REDIRECT_LOGIN), john=(M, REDIRECT)),
    "account_sessions:end_others": row((M, REDIRECT), anonymous=(M, REDIRECT_LOGIN)),
    # Two-factor set-up is for agents and administrators; end users are turned away.
    "accounts:two_factor": row((OK, INVALID), anonymous=REDIRECT_LOGIN, ken=FORBIDDEN, mary=FORBIDDEN),
    # Nothing waits for a second factor here, so the check page sends each person on.
    "accounts:two_factor_verify": row(REDIRECT, anonymous=REDIRECT_LOGIN),
    # Shown once after set-up; asking again without a device sends back to the set-up page.
    "accounts:recovery_codes": row((OK, REDIRECT), anonymous=REDIRECT_LOGIN, ken=FORBIDDEN, mary=FORBIDDEN),
    # Passkeys need HTTPS; over the test server's plain http every passkey endpoint refuses
    # everyone (tests/accounts/test_passkeys.py drives them over https).
    "otp_webauthn:credential-registration-begin": row(FORBIDDEN),
    "otp_webauthn:credential-registration-complete": row(FORBIDDEN),
    "otp_webauthn:credential-authentication-begin": row(FORBIDDEN),
    "otp_webauthn:credential-authentication-complete": row(FORBIDDEN),
    "otp_webauthn:js-i18n-catalog": row(GET_ONLY),
    # ------------------------------------------------------------ the portal (/)
    "portal:home": row((OK, INVALID)),
    "portal:opened": row((REDIRECT, M)),  # nothing was just opened in this session: back home
    "portal:status": row((OK, INVALID)),
    "portal:status_sent": row(GET_ONLY),
    # The access link is the requester's key: whoever holds it acts as the requester.
    "portal:access": row((OK, REDIRECT)),
    # The file is on an internal note: no portal route serves it to anyone.
    "portal:access_file": row((NOT_FOUND, M)),
    "portal:ticket_file": row((NOT_FOUND, M), anonymous=REDIRECT_LOGIN),
    "portal:my_tickets": row(GET_ONLY, anonymous=REDIRECT_LOGIN),
    # My tickets lists only the tickets one opened or is copied on, agents included.
    # The rating link works without signing in, for its requester only; the scene's tickets are open, so
    # the rating itself is refused (403). Anyone else signed in is told nothing is there.
    "satisfaction:rate": row(NOT_FOUND, anonymous=(OK, FORBIDDEN), ken=(OK, FORBIDDEN), bill_requester=(OK, FORBIDDEN)),
    "portal:ticket": row(NOT_FOUND, anonymous=REDIRECT_LOGIN, ken=(OK, REDIRECT), bill_requester=(OK, REDIRECT)),
    "portal:login": row(REDIRECT, anonymous=(OK, INVALID)),
    "portal:logout": row((M, REDIRECT)),
    "portal:password_reset": row((OK, INVALID)),
    "portal:password_reset_done": row(GET_ONLY),
    "portal:password_reset_complete": row(GET_ONLY),
    # A valid link is a bearer key: it moves to the set-password page, which asks for the new one.
    "portal:password_reset_confirm": row(REDIRECT),
    # The language picker: anyone may choose (a cookie; for the signed in, their own account too).
    "i18n:choose_language": row((M, REDIRECT)),
    # Sign-up is for people without an account; the verification link is a signed bearer key.
    "portal:register": row(REDIRECT, anonymous=(OK, INVALID)),
    "portal:register_sent": row(GET_ONLY),
    "portal:register_verify": row(NOT_FOUND),  # the matrix's token is an access link's, not a sign-up's
    # An end user's own profile; staff keep theirs in the workspace.
    "portal:profile": row(REDIRECT, anonymous=REDIRECT_LOGIN, ken=(OK, INVALID), mary=(OK, INVALID)),
    # Only an organisation's manager, or members where it shares tickets: nobody in the scene.
    "portal:organisation_tickets": row((NOT_FOUND, M), anonymous=REDIRECT_LOGIN),
    # ------------------------------------------------------------ the configuration admin (/admin/)
    "admin:index": row(**ADMIN_ONLY, admin=OK),
    "admin:login": row(OK, admin=(REDIRECT, OK)),
    "admin:logout": row(REDIRECT, admin=(M, OK)),
    "admin:password_change": row(**ADMIN_ONLY, admin=OK),
    "admin:password_change_done": row(**ADMIN_ONLY, admin=GET_ONLY),
    "admin:autocomplete": row(**ADMIN_ONLY, admin=(FORBIDDEN, M)),  # no field named: refused even to admins
    "admin:jsi18n": row(**ADMIN_ONLY, admin=GET_ONLY),
    "admin:view_on_site": row(**ADMIN_ONLY, admin=NOT_FOUND),  # departments have no public page
    "admin:app_list": row(**ADMIN_ONLY, admin=OK),
    "admin:auth_user_password_change": row(**ADMIN_ONLY, admin=OK),
    # Every registered model's pages (see the module docstring); an empty POST saves nothing.
    "admin:<model>_changelist": row(**ADMIN_ONLY, admin=OK),
    "admin:<model>_add": row(**ADMIN_ONLY, admin=OK),
    "admin:<model>_change": row(**ADMIN_ONLY, admin=OK),
    "admin:<model>_history": row(**ADMIN_ONLY, admin=OK),
    "admin:<model>_delete": row(**ADMIN_ONLY, admin=OK),
    # The audit log is read-only, even to administrators; superusers export it.
    "admin:audit_auditentry_add": row(**ADMIN_ONLY, admin=FORBIDDEN),
    "admin:audit_auditentry_change": row(**ADMIN_ONLY, admin=(OK, FORBIDDEN)),
    "admin:audit_auditentry_delete": row(**ADMIN_ONLY, admin=FORBIDDEN),
    "admin:audit_auditentry_export": row(**ADMIN_ONLY, admin=OK),
    # Passkeys are added by their owner in the workspace; an administrator may only remove one.
    "admin:django_otp_webauthn_webauthncredential_add": row(**ADMIN_ONLY, admin=FORBIDDEN),
    # An administrator never sees an agent's second-factor secret.
    "admin:otp_totp_totpdevice_config": row(**ADMIN_ONLY, admin=FORBIDDEN),
    "admin:otp_totp_totpdevice_qrcode": row(**ADMIN_ONLY, admin=FORBIDDEN),
    # Tasks change through their services only: the admin lists and shows them, never adds or deletes.
    "admin:tasks_task_add": row(**ADMIN_ONLY, admin=FORBIDDEN),
    "admin:tasks_task_change": row(**ADMIN_ONLY, admin=(OK, FORBIDDEN)),
    "admin:tasks_task_delete": row(**ADMIN_ONLY, admin=FORBIDDEN),
    # Task results are written by the worker, not by hand.
    "admin:django_tasks_database_dbtaskresult_add": row(**ADMIN_ONLY, admin=FORBIDDEN),
    # Periodic jobs are registered by the apps' code: the admin lists and re-runs them, never adds one.
    "admin:scheduler_jobschedule_add": row(**ADMIN_ONLY, admin=FORBIDDEN),
    # What a routing rule would do to a sample ticket: reads only, for administrators.
    "admin:rules_rule_test": row(**ADMIN_ONLY, admin=OK),
    # The webhook delivery log is written by the desk; administrators read it and redeliver.
    "admin:webhooks_delivery_add": row(**ADMIN_ONLY, admin=FORBIDDEN),
    # The Help Center's settings are one row, made by the migration: never added again or deleted.
    # The one settings row: its list opens it (a redirect to its change page).
    "admin:portal_portalsettings_changelist": row(**ADMIN_ONLY, admin=REDIRECT),
    "admin:portal_portalsettings_add": row(**ADMIN_ONLY, admin=FORBIDDEN),
    "admin:portal_portalsettings_delete": row(**ADMIN_ONLY, admin=FORBIDDEN),
    # A rule's unsaved form tried on a sample: POST only, saves nothing (an empty form shows its errors).
    "admin:rules_rule_preview": row(**ADMIN_ONLY, admin=(METHOD_NOT_ALLOWED, unchanged(OK))),
    # Ratings come from requesters only: the admin lists, filters and exports them, never adds one.
    "admin:satisfaction_rating_add": row(**ADMIN_ONLY, admin=FORBIDDEN),
    # ------------------------------------------------------------ the REST API (/api/v1/)
    "api-v1:api-root": row(NOT_FOUND),
    # ninja serves the schema and the docs page to either method; both only read.
    "api-v1:openapi-json": row(OK),
    "api-v1:openapi-view": row(OK),
    "api-v1:me": API_GET_KEY_ONLY,
    # ------------------------------------------------------------ osTicket's ticket API (/api/tickets.*)
    # A GET is osTicket's 400 "URL not supported"; a POST without X-API-Key is 401, signed in or not.
    "osticket-json": OSTICKET,
    "osticket-xml": OSTICKET,
    "osticket-email": OSTICKET,
    "osticket-http-json": OSTICKET,
    "osticket-http-xml": OSTICKET,
    "osticket-http-email": OSTICKET,
    # /api/v1/tickets: the list (GET) and opening (POST) share one path.
    "api-v1:ticket_list": API_KEY_ONLY,
    "api-v1:ticket_create": API_KEY_ONLY,
    "api-v1:ticket_get": API_GET_KEY_ONLY,
    "api-v1:ticket_reply": API_POST_KEY_ONLY,
    "api-v1:ticket_note": API_POST_KEY_ONLY,
    "api-v1:ticket_upload": API_POST_KEY_ONLY,
    "api-v1:ticket_download_attachment": API_GET_KEY_ONLY,
    "api-v1:ticket_assign": API_POST_KEY_ONLY,
    "api-v1:ticket_claim": API_POST_KEY_ONLY,
    "api-v1:ticket_release": API_POST_KEY_ONLY,
    "api-v1:ticket_transfer": API_POST_KEY_ONLY,
    "api-v1:ticket_priority": API_POST_KEY_ONLY,
    "api-v1:ticket_status": API_POST_KEY_ONLY,
    "api-v1:ticket_add_collaborator": API_POST_KEY_ONLY,
    "api-v1:ticket_remove_collaborator": API_DELETE_ONLY,
    "api-v1:ticket_merge": API_POST_KEY_ONLY,
    "api-v1:ticket_link": API_POST_KEY_ONLY,
    "api-v1:ticket_unlink": API_DELETE_ONLY,
    # The directory (tessera/api/directory.py): lists take POST to create, items PATCH to change.
    "api-v1:users": API_KEY_ONLY,
    "api-v1:user": API_GET_KEY_ONLY,
    "api-v1:organisations": API_KEY_ONLY,
    "api-v1:organisation": API_GET_KEY_ONLY,
    "api-v1:agents": API_GET_KEY_ONLY,
    "api-v1:agent": API_GET_KEY_ONLY,
    "api-v1:departments": API_KEY_ONLY,
    "api-v1:department": API_GET_KEY_ONLY,
    "api-v1:teams": API_KEY_ONLY,
    "api-v1:team": API_GET_KEY_ONLY,
    "api-v1:topics": API_KEY_ONLY,
    "api-v1:topic": API_GET_KEY_ONLY,
    "api-v1:kb_articles": API_GET_KEY_ONLY,
    "api-v1:kb_article": API_GET_KEY_ONLY,
    "api-v1:kb_categories": API_GET_KEY_ONLY,
    "api-v1:priorities": API_KEY_ONLY,
    "api-v1:priority": API_GET_KEY_ONLY,
    "api-v1:statuses": API_KEY_ONLY,
    "api-v1:status": API_GET_KEY_ONLY,
    "api-v1:sla_plans": API_GET_KEY_ONLY,
    "api-v1:sla_plan": API_GET_KEY_ONLY,
    "api-v1:routing_rules": API_GET_KEY_ONLY,
    "api-v1:routing_rule": API_GET_KEY_ONLY,
    # Custom fields (tessera/api/custom_fields.py; a ticket's answers in tessera/api/tickets.py).
    "api-v1:fields": API_GET_KEY_ONLY,
    "api-v1:ticket_fields": API_POST_KEY_ONLY,
}

# ---------------------------------------------------------------------------- running one URL


@dataclass(frozen=True)
class Route:
    name: str  # the key into EXPECTED
    url_name: str  # what reverse() takes
    parameters: tuple[str, ...]


def _walk(resolver: URLResolver, namespace: str = "") -> list[tuple[str, tuple[str, ...]]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += [(name, params + tuple(entry.pattern.regex.groupindex)) for name, params in _walk(entry, inner)]
        elif isinstance(entry, URLPattern) and entry.name:
            found.append((namespace + entry.name, tuple(entry.pattern.regex.groupindex)))
    return found


ADMIN_MODEL_PAGES = ("changelist", "add", "change", "history", "delete")


def _admin_models() -> dict[str, str]:
    """URL prefix ("accounts_department") -> model label, for every registered model."""
    return {f"{m._meta.app_label}_{m._meta.model_name}": m._meta.label for m in django_admin.site._registry}


def routes() -> list[Route]:
    """Every named route; an admin model page is keyed by its shared row unless it has its own."""
    prefixes = _admin_models()
    out = []
    for url_name, params in dict(_walk(get_resolver())).items():
        key = url_name
        if url_name.startswith("admin:") and url_name not in EXPECTED:
            prefix, _, page = url_name.removeprefix("admin:").rpartition("_")
            if prefix in prefixes and page in ADMIN_MODEL_PAGES:
                key = f"admin:<model>_{page}"
        out.append(Route(key, url_name, tuple(dict.fromkeys(params))))
    return out


def _fingerprint() -> tuple:
    from tessera.staff.models import SavedQueue
    from tessera.tickets.models import Ticket

    # The record of an attempt is not a change to the desk: the audit log, the session list and
    # the sign-in counters are written for refused requests too, on purpose.
    records = {"audit_auditentry", "audit_usersession", "accounts_throttle"}
    tables = [
        m._meta.db_table
        for m in apps.get_models()
        if m.__module__.startswith("tessera.") and m._meta.db_table not in records
    ]
    with connection.cursor() as cursor:
        # One round trip for every table's row count.
        # Table names come from the app registry, quoted; no value is interpolated.
        counts_sql = ", ".join(f"(SELECT COUNT(*) FROM {connection.ops.quote_name(t)})" for t in tables)  # noqa: S608
        cursor.execute("SELECT " + counts_sql)
        counts = cursor.fetchone()
    tickets = tuple(Ticket.objects.order_by("pk").values_list())
    return counts, tickets, tuple(SavedQueue.objects.order_by("pk").values_list())


def classify(response) -> str:
    code = response.status_code
    if 300 <= code < 400:
        location = response.get("Location", "")
        return REDIRECT_LOGIN if any(p in location.split("?")[0] for p in LOGIN_PATHS) else REDIRECT
    return {
        401: UNAUTHENTICATED,
        403: FORBIDDEN,
        404: NOT_FOUND,
        405: METHOD_NOT_ALLOWED,
        400: INVALID,
        286: STOP_POLLING,
    }.get(code, OK if 200 <= code < 300 else f"HTTP {code}")


def _signed_in(scene: SimpleNamespace, persona: str) -> Client:
    """A client as `persona`, with the session `scene` signed it in with. A cell that signs out,
    rotates or deletes the session is rolled back with it, so the next cell sends the same key."""
    client = Client()
    if persona in scene.session_keys:
        client.cookies[settings.SESSION_COOKIE_NAME] = scene.session_keys[persona]
    return client


def _sign_in_everyone(scene: SimpleNamespace) -> SimpleNamespace:
    """Each persona signs in once for the module, in the module's transaction (a test's own is
    rolled back after it): signing in for every cell was a sixth of the module's time."""
    scene.session_keys = {}
    for persona, user in scene.users.items():
        if user is not None:
            client = Client()
            client.force_login(user)
            scene.session_keys[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return scene


def ask(scene: SimpleNamespace, route: Route, persona: str, method: str, expected: Cell) -> str | None:
    """One cell: the problem, or None when the answer is the expected one."""
    subject = scene.subjects[persona]
    client = _signed_in(scene, persona)
    # After signing in: a password-reset token covers the last sign-in.
    url = reverse(route.url_name, kwargs=matrix_scene.fill(route.url_name, list(route.parameters), scene, subject))
    with transaction.atomic():
        subject.ticket.refresh_from_db()
        check = method == "POST" and expected.must_not_change
        before = _fingerprint() if check else None
        if method == "GET":
            response = client.get(url)
        else:
            body = matrix_scene.POST_BODIES.get(route.url_name, lambda s, sub: {})(scene, subject)
            response = client.post(url, body)
        after = _fingerprint() if check else None
        transaction.set_rollback(True)
    process_memo.forget_all()
    got = classify(response)
    where = f"{route.url_name} {method} {url} as {persona}"
    if got != expected.outcome:
        return (
            f"{where}: expected {expected.outcome}, got {got} ({response.status_code} {response.get('Location', '')})"
        )
    if check and before != after:
        return f"{where}: answered {got} but the POST changed the database"
    return None


def _cells(route: Route):
    for persona, (get, post) in EXPECTED[route.name].items():
        yield persona, "GET", get
        yield persona, "POST", post


def _params():
    """One test per URL for its ordinary cells, plus one xfail test per cell wrong today; the
    admin's model pages are grouped into one test per app (its first registered model)."""
    params, admin_groups = [], {}
    for route in routes():
        if route.name not in EXPECTED:
            continue  # test_every_named_url_has_a_row reports it
        if route.name.startswith("admin:<model>_"):
            model = route.url_name.removeprefix("admin:").rpartition("_")[0]
            admin_groups.setdefault(model, []).append(route)
            continue
        params.append(pytest.param([route], None, id=route.url_name))
        for persona, method, cell in _cells(route):
            if cell.issue:
                params.append(
                    pytest.param(
                        [route],
                        (persona, method),
                        id=f"{route.url_name}-{persona}-{method}",
                        marks=pytest.mark.xfail(strict=True, reason=cell.issue),
                    )
                )
    families = {}
    for model in django_admin.site._registry:  # registration order: the first model of each app
        families.setdefault(model._meta.app_label, f"{model._meta.app_label}_{model._meta.model_name}")
    params.extend(pytest.param(admin_groups[prefix], None, id=f"admin:{prefix}") for prefix in families.values())
    return params


def test_every_named_url_has_a_row():
    missing = sorted({r.name for r in routes()} - set(EXPECTED))
    assert not missing, "".join(
        f"\nadd a row for {name!r} to EXPECTED in tests/security/test_permission_matrix.py, e.g. "
        f'"{name}": row(**WORKSPACE, bill=..., john=...),'
        for name in missing
    )


def test_every_row_names_a_url_that_exists():
    stale = sorted(set(EXPECTED) - {r.name for r in routes()})
    assert not stale, f"rows for URLs that no longer exist: {stale}"


@pytest.fixture(scope="module")
def scene(django_db_setup, django_db_blocker, tmp_path_factory):
    """The desk, built once for the whole module inside a transaction rolled back at the end; every
    cell runs in its own savepoint (see `ask`), so no cell sees another's changes."""
    from tests.conftest import desk as desk_fixture

    media = tmp_path_factory.mktemp("matrix-media")
    with django_db_blocker.unblock(), override_settings(**_module_settings(media)), transaction.atomic():
        # the shared `desk`, built once
        yield _sign_in_everyone(matrix_scene.build(desk_fixture.__wrapped__(db=None)))
        transaction.set_rollback(True)


def _module_settings(media) -> dict:
    """What tests/conftest.py's per-test `_test_settings` sets, held for the whole module (files
    written while building the scene must stay where the download views look)."""
    from django.conf import settings

    return {
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "TASKS": {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}},
        "MEDIA_ROOT": media,
        "TESSERA": {**settings.TESSERA, "COUNTS_CACHE_SECONDS": 0},
        "STORAGES": {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    }


@pytest.fixture(autouse=True)
def _test_settings():
    """Replaces tests/conftest.py's: the module-wide settings of `scene` apply instead."""


def _admin_object_exists(route: Route) -> bool:
    if "object_id" not in route.parameters:
        return True
    prefix = route.url_name.removeprefix("admin:").rpartition("_")[0]
    model = apps.get_model(_admin_models()[prefix])
    return model._default_manager.exists()


def _admin_args(route: Route) -> dict:
    prefix = route.url_name.removeprefix("admin:").rpartition("_")[0]
    model = apps.get_model(_admin_models()[prefix])
    return {"object_id": model._default_manager.order_by("pk").values_list("pk", flat=True).first()}


@pytest.mark.parametrize(("group", "only"), _params())
def test_permission_matrix(scene, db, group, only):
    problems = []
    for route in group:
        if route.url_name.startswith("admin:") and route.url_name.removeprefix("admin:").rpartition("_")[0] in (
            _admin_models()
        ):
            if not _admin_object_exists(route):
                continue
            if "object_id" in route.parameters:
                object_id = _admin_args(route)["object_id"]
                matrix_scene.BY_NAME[(route.url_name, "object_id")] = lambda s, sub, pk=object_id: pk
        for persona, method, cell in _cells(route):
            if only is None and cell.issue:
                continue  # asked by its own xfail test
            if only is not None and (persona, method) != only:
                continue
            problem = ask(scene, route, persona, method, cell)
            if problem:
                problems.append(problem)
    assert not problems, "\n".join(problems)
