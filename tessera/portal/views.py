"""What end users see: open a ticket, follow it by link or account, reply, close.

Views parse input, call tickets.services and render. Whatever a service refuses comes
back as a page that says why (400 with the form as typed, or 403), never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseForm
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_http_methods

from tessera import ratelimit
from tessera.accounts import throttle
from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import User
from tessera.accounts.zones import zone_of
from tessera.customfields import selectors as customfield_selectors
from tessera.customfields.rendering import CustomFieldsForm, ticket_fields_form
from tessera.staff.access import INLINE_IMAGE_TYPES  # served inline; everything else downloads
from tessera.tickets import access_links, policy, selectors, services
from tessera.tickets import attachments as attachment_store
from tessera.tickets.attachments import from_uploaded_files
from tessera.tickets.models import HelpTopic, Source, State, Ticket
from tessera.tickets.policy import Action

from . import selectors as portal_selectors
from . import tasks
from .forms import (
    OpenTicketForm,
    ReplyForm,
    SetOrResetPasswordForm,
    SignInForm,
    StatusCheckForm,
    attach_service_errors,
)
from .models import PortalSettings

log = logging.getLogger(__name__)

# Where the confirmation page finds the ticket just opened: the session, so the URL
# carries nothing a stranger could reuse or guess.
OPENED_SESSION_KEY = "portal.opened_ticket"

# A downloaded file is a document of its own; it gets no scripts, no plugins, no same-origin powers.
# Django writes a True directive bare ("sandbox"); the stubs allow only strings as values.
FILE_CSP: Mapping[str, Collection[str] | str] = {"default-src": ["'none'"], "img-src": ["'self'"], "sandbox": True}  # type: ignore[dict-item]


# ---------------------------------------------------------------------------- small pages


def _forbidden(request: HttpRequest, exc: PermissionDenied, *, back: str | None = None, hint: str = "") -> HttpResponse:
    reason = str(exc) or _("You are not allowed to do that.")
    return render(request, "portal/forbidden.html", {"reason": reason, "back": back, "hint": hint}, status=403)


def _not_found(request: HttpRequest, *, what: str) -> HttpResponse:
    return render(request, "portal/not_found.html", {"what": what}, status=404)


# ---------------------------------------------------------------------------- open a ticket


@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    signed_in = request.user.is_authenticated
    if request.method != "POST":
        # The fields every ticket asks; a topic's own appear when it is chosen (htmx).
        context: dict[str, Any] = {
            "form": OpenTicketForm(signed_in=signed_in),
            "fields_form": ticket_fields_form(None, "user"),
        }
        return render(request, "portal/home.html", context)

    form = OpenTicketForm(request.POST, request.FILES, signed_in=signed_in)
    # The chosen topic's fields, checked with the rest: without JavaScript they first appear here.
    fields_form = ticket_fields_form(_posted_topic(request), "user", data=request.POST)
    status = 400
    fields_valid = fields_form.is_valid()
    if form.is_valid() and fields_valid:
        try:
            number = _intake(request, {**form.cleaned_data, "custom_values": fields_form.cleaned_data})
        except PermissionDenied as exc:
            return _forbidden(request, exc)
        except ValidationError as exc:
            status = 429 if getattr(exc, "code", None) == "too_many" else 400
            _attach_split(form, fields_form, exc)
        else:
            email = request.user.email if request.user.is_authenticated else form.cleaned_data["email"].strip().lower()
            request.session[OPENED_SESSION_KEY] = {"number": number, "email": email}
            return redirect("portal:opened")
    context = {"form": form, "fields_form": fields_form, "files_lost": bool(request.FILES)}
    return render(request, "portal/home.html", context, status=status)


def _posted_topic(request: HttpRequest) -> HelpTopic | None:
    raw = request.POST.get("topic", "")
    if not raw.isdecimal() or len(raw) > 18:
        return None
    return portal_selectors.public_topics().filter(pk=int(raw)).first()


def _attach_split(form: OpenTicketForm, fields_form: CustomFieldsForm, exc: ValidationError) -> None:
    """A service's errors next to the inputs they name, in whichever of the two forms has them."""
    if not hasattr(exc, "error_dict"):
        attach_service_errors(form, exc)
        return
    for name, errors in exc.error_dict.items():
        if name in fields_form.fields:
            fields_form.add_error(name, errors)
        else:
            form.add_error(name if name in form.fields else None, errors)


def _intake(request: HttpRequest, data: dict[str, Any]) -> int | None:
    """Open the ticket the form describes and return its number, or None when nothing was
    opened because the address is disabled: that is answered like any other address, so the
    form cannot tell which accounts exist or are disabled (nobody is mailed either)."""
    user = request.user
    signed_in = user.is_authenticated
    email = user.email if user.is_authenticated else data["email"].strip().lower()
    too_many = _intake_limited(request, email)
    if too_many:
        raise ValidationError(too_many, code="too_many")
    owner = None if signed_in else portal_selectors.account_for_address(email)
    if owner is not None and (owner.is_superuser or owner.is_staff or owner.agent_or_none is not None):
        # Otherwise anyone could make "Ada Admin opened the ticket" appear to agents.
        raise ValidationError({"email": _STAFF_ADDRESS})
    if owner is not None and not owner.is_active:
        log.info("Portal ticket for a disabled address not opened")
        return None
    return _open_ticket(request, data).number


_STAFF_ADDRESS = gettext_lazy(
    "This address belongs to a member of the help desk staff. Sign in to open a ticket with it, "
    "or use your own address."
)


def _intake_limited(request: HttpRequest, email: str) -> str:
    """Why this submission is refused as one too many (empty when it may go ahead). Each person
    and each client may open only so many tickets an hour: every ticket mails its requester
    and alerts agents, so a flood would mail addresses someone made up."""
    limits = settings.TESSERA
    for scope, key, limit in (
        ("intake-ip", ratelimit.client_ip(request), limits["INTAKE_LIMIT_PER_IP"]),
        ("intake-address", email, limits["INTAKE_LIMIT_PER_ADDRESS"]),
    ):
        decision = ratelimit.hit(scope, key, limit=limit, window=3600)
        if not decision.allowed:
            minutes = max(1, -(-decision.retry_after // 60))
            return ngettext(
                "You have opened several tickets in a short time. Please try again in %(minutes)d minute, "
                "or add what you wanted to say to a ticket you already opened.",
                "You have opened several tickets in a short time. Please try again in %(minutes)d minutes, "
                "or add what you wanted to say to a ticket you already opened.",
                minutes,
            ) % {"minutes": minutes}
    return ""


def _open_ticket(request: HttpRequest, data: dict[str, Any]) -> Ticket:
    uploads = from_uploaded_files(data["attachments"])
    if request.user.is_authenticated:
        return services.open_ticket(
            request.user,
            requester=request.user,
            subject=data["subject"],
            message=data["message"],
            topic=data["topic"],
            source=Source.WEB,
            uploads=uploads,
            custom_values=data.get("custom_values", {}),
        )
    return services.open_ticket_for_guest(
        email=data["email"],
        name=data["name"],
        subject=data["subject"],
        message=data["message"],
        topic=data["topic"],
        source=Source.WEB,
        uploads=uploads,
        custom_values=data.get("custom_values", {}),
        language=translation.get_language() or "",
    )


@require_http_methods(["GET"])
def opened(request: HttpRequest) -> HttpResponse:
    """The confirmation after POST/redirect/GET; it only knows what this browser just opened."""
    opened = request.session.get(OPENED_SESSION_KEY)
    if not opened:
        return redirect("portal:home")
    return render(request, "portal/opened.html", {"number": opened["number"], "email": opened["email"]})


# ---------------------------------------------------------------------------- check status


@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "portal/status.html", {"form": StatusCheckForm()})
    form = StatusCheckForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/status.html", {"form": form}, status=400)
    if throttle.refuse_form(request, throttle.Scope.STATUS_LOOKUP, form, account=form.cleaned_data["email"]):
        return render(request, "portal/status.html", {"form": form}, status=429)
    if form.cleaned_data["number"] is None:
        _send_open_ticket_links(form.cleaned_data["email"])
    else:
        _send_access_link_if_party(form.cleaned_data["email"], form.cleaned_data["number"])
    # Always the same answer, so the form cannot tell anyone which tickets exist or whose they are.
    return redirect("portal:status_sent")


def _send_open_ticket_links(email: str) -> None:
    """ "I lost my link": one mail listing the person's open tickets (none: no mail)."""
    user = portal_selectors.end_user_by_email(email)
    if user is None:
        return
    try:
        tasks.send_open_ticket_links.enqueue(user.pk)
    except Exception:
        log.exception("Could not queue the open tickets' links")


def _send_access_link_if_party(email: str, number: int) -> None:
    user = portal_selectors.end_user_by_email(email)
    ticket = portal_selectors.ticket_of_end_user(user, number) if user else None
    if user is None or ticket is None:
        return
    try:
        tasks.send_access_link.enqueue(ticket.pk, user.pk)
    except Exception:
        # The page must look the same either way; the operator sees the log.
        log.exception("Could not queue the access link for ticket %s", ticket.number)


@require_http_methods(["GET"])
def status_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/status_sent.html")


# ---------------------------------------------------------------------------- the ticket page


@dataclass(frozen=True)
class TicketPage:
    """One ticket as one viewer reaches it: by private link (token) or signed in (number)."""

    ticket: Ticket
    viewer: User
    url: str
    token: str | None = None


@never_cache
@require_http_methods(["GET", "POST"])
def access(request: HttpRequest, token: str) -> HttpResponse:
    resolved = access_links.resolve_token(token)
    if resolved is None:
        return render(request, "portal/link_invalid.html", status=404)
    ticket, viewer = resolved
    page = TicketPage(ticket, viewer, reverse("portal:access", args=[token]), token)
    zone = zone_of(viewer) if not request.user.is_authenticated else None
    if zone is None:  # signed in (the middleware chose their zone), or the link's owner has none
        return _ticket_page(request, page)
    # Whoever follows the link is its owner: show times in their zone, as when they sign in.
    with timezone.override(zone):
        return _ticket_page(request, page)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def ticket(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    found = portal_selectors.ticket_of_end_user(request.user, number)
    if found is None:
        return _not_found(request, what=_("We could not find that ticket among yours."))
    return _ticket_page(request, TicketPage(found, request.user, reverse("portal:ticket", args=[number])))


def _ticket_page(request: HttpRequest, page: TicketPage) -> HttpResponse:
    """Shared by the access link and My tickets, so both behave exactly alike."""
    if not policy.can(page.viewer, Action.VIEW, page.ticket):
        return _not_found(request, what=_("We could not find that ticket among yours."))
    if request.method == "POST":
        if request.POST.get("action") == "close":
            return _close(request, page)
        if request.POST.get("action") == "reopen":
            return _reopen(request, page)
        return _reply(request, page)
    return _render_ticket(request, page, ReplyForm())


def _posted_version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def _reply(request: HttpRequest, page: TicketPage) -> HttpResponse:
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        was_done = page.ticket.state in (State.RESOLVED, State.CLOSED)
        try:
            posted = services.reply_or_follow_up(
                page.viewer,
                page.ticket,
                message=form.cleaned_data["message"],
                uploads=from_uploaded_files(form.cleaned_data["attachments"]),
                source=Source.WEB,
                expected_version=_posted_version(request),
            )
        except PermissionDenied as exc:
            return _forbidden(request, exc, back=page.url)
        except ValidationError as exc:
            # A stale ticket lands here too: the page re-reads it, so the news shows above the kept text.
            attach_service_errors(form, exc)
            page = replace(page, ticket=_reload(page.ticket))
        else:
            if posted.follow_up:
                messages.success(
                    request,
                    _(
                        "%(old)s can no longer be reopened, so your message opened a new ticket, %(new)s, "
                        "which refers to it."
                    )
                    % {"old": page.ticket.reference, "new": posted.ticket.reference},
                )
                return redirect(_page_url_for(page, posted.ticket))
            if was_done:
                messages.success(request, _("Your reply was sent and the ticket is open again."))
            else:
                messages.success(request, _("Your reply was sent."))
            return redirect(page.url)
    return _render_ticket(request, page, form, files_lost=bool(request.FILES), status=400)


def _close(request: HttpRequest, page: TicketPage) -> HttpResponse:
    try:
        services.close_by_user(page.viewer, page.ticket)
    except PermissionDenied as exc:
        hint = _("Only the person who opened a ticket can close it; people copied on it can read and reply.")
        return _forbidden(request, exc, back=page.url, hint=hint)
    except ValidationError as exc:
        page = replace(page, ticket=_reload(page.ticket))
        return _render_ticket(request, page, ReplyForm(), close_errors=exc.messages, status=400)
    messages.success(
        request,
        _("Ticket %(ref)s is closed. If you need more help, reply here and it opens again.")
        % {"ref": page.ticket.reference},
    )
    return redirect(page.url)


def _reopen(request: HttpRequest, page: TicketPage) -> HttpResponse:
    try:
        services.reopen_by_user(page.viewer, page.ticket, expected_version=_posted_version(request))
    except PermissionDenied as exc:
        return _forbidden(request, exc, back=page.url)
    except ValidationError as exc:
        page = replace(page, ticket=_reload(page.ticket))
        return _render_ticket(request, page, ReplyForm(), close_errors=exc.messages, status=400)
    messages.success(request, _("Ticket %(ref)s is open again.") % {"ref": page.ticket.reference})
    return redirect(page.url)


def _page_url_for(page: TicketPage, ticket: Ticket) -> str:
    """Another ticket of the viewer's, reached the way they reached this one (link or account)."""
    if page.token:
        return reverse("portal:access", args=[access_links.make_token(ticket, page.viewer)])
    return reverse("portal:ticket", args=[ticket.number])


def _reload(ticket: Ticket) -> Ticket:
    ticket.refresh_from_db()
    return ticket


def _render_ticket(
    request: HttpRequest,
    page: TicketPage,
    form: ReplyForm,
    *,
    close_errors: list[str] | None = None,
    files_lost: bool = False,
    status: int = 200,
) -> HttpResponse:
    ticket = page.ticket
    context = {
        "ticket": ticket,
        "viewer": page.viewer,
        "page_url": page.url,
        "token": page.token,
        "timeline": selectors.timeline(ticket, include_internal=False),
        "form": form,
        "can_reply": policy.can(page.viewer, Action.REPLY, ticket),
        "can_close": policy.can(page.viewer, Action.CLOSE, ticket),
        # Reopen while the status's window allows it; after it, a reply opens a linked new ticket.
        "can_reopen": policy.may_reopen_as_requester(page.viewer, ticket) and services.may_reopen(ticket),
        "reopen_until": services.reopen_deadline(ticket) if ticket.state in (State.RESOLVED, State.CLOSED) else None,
        "reply_opens_new": services.needs_follow_up(page.viewer, ticket),
        "close_errors": close_errors or [],
        "files_lost": files_lost,
        "merged": _merged_pointer(page),
        # Answers to custom fields the requester may see (not the agents-only ones).
        "answers": customfield_selectors.answers_for_requester(ticket),
    }
    return render(request, "portal/ticket.html", context, status=status)


@dataclass(frozen=True)
class MergedPointer:
    reference: str | None  # None: the surviving ticket is not one the viewer is a party to
    url: str | None


def _merged_pointer(page: TicketPage) -> MergedPointer | None:
    """Where a merged ticket's conversation went on: a link to the surviving ticket, reached the
    same way as this page (access link or My tickets), but only if the viewer is a party to it."""
    target = page.ticket.merged_into
    if target is None:
        return None
    if not policy.can(page.viewer, Action.VIEW, target):
        return MergedPointer(None, None)
    if page.token:
        url = reverse("portal:access", args=[access_links.make_token(target, page.viewer)])
    else:
        url = reverse("portal:ticket", args=[target.number])
    return MergedPointer(target.reference, url)


# ---------------------------------------------------------------------------- attachments


@csp_override(FILE_CSP)
@require_http_methods(["GET"])
def access_file(request: HttpRequest, token: str, attachment_id: int) -> HttpResponse | FileResponse:
    resolved = access_links.resolve_token(token)
    if resolved is None:
        return render(request, "portal/link_invalid.html", status=404)
    ticket, viewer = resolved
    return _serve(request, ticket, viewer, attachment_id)


@csp_override(FILE_CSP)
@login_required
@require_http_methods(["GET"])
def ticket_file(request: AuthenticatedHttpRequest, number: int, attachment_id: int) -> HttpResponse | FileResponse:
    found = portal_selectors.ticket_of_end_user(request.user, number)
    if found is None:
        return _not_found(request, what=_("We could not find that file."))
    return _serve(request, found, request.user, attachment_id)


def _serve(request: HttpRequest, ticket: Ticket, viewer: User, attachment_id: int) -> HttpResponse | FileResponse:
    attachment = portal_selectors.public_attachment(ticket, attachment_id)
    if attachment is None or not policy.can(viewer, Action.VIEW, ticket):
        return _not_found(request, what=_("We could not find that file."))
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        log.error("Attachment %s of ticket %s is missing from storage", attachment.pk, ticket.number)
        return _not_found(request, what=_("That file is no longer stored. Ask the help desk to send it again."))
    content_type = attachment_store.served_content_type(attachment.content_type)
    response = FileResponse(
        handle,
        as_attachment=content_type not in INLINE_IMAGE_TYPES,
        filename=attachment.name,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------- my tickets


@login_required
@require_http_methods(["GET"])
def my_tickets(request: AuthenticatedHttpRequest) -> HttpResponse:
    before = _parse_cursor(request.GET.get("before", ""))
    tickets, has_more = portal_selectors.my_tickets_page(request.user, before=before)
    next_cursor = _cursor(tickets[-1]) if has_more else None
    context = {
        "tickets": tickets,
        "next_cursor": next_cursor,
        "is_first_page": before is None,
        "sees_organisation": policy.sees_organisation_tickets(request.user),
    }
    return render(request, "portal/my_tickets.html", context)


def _cursor(ticket: Ticket) -> str:
    return f"{ticket.created_at.isoformat()}~{ticket.pk}"


def _parse_cursor(raw: str) -> tuple[datetime, int] | None:
    """A hand-edited or stale cursor simply shows the first page."""
    stamp, _sep, pk = raw.rpartition("~")
    try:
        when = datetime.fromisoformat(stamp)
        return (when, int(pk)) if when.tzinfo is not None else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------- accounts


class _InvalidFormIsBadRequest:
    """Django's auth views answer a refused form with 200; the portal says 400 everywhere,
    so tests, logs and assistive tools read every refusal the same way."""

    def form_invalid(self, form: BaseForm) -> HttpResponse:
        # A mixin: the auth view beside it in the bases supplies form_invalid, which mypy cannot see.
        response: HttpResponse = super().form_invalid(form)  # type: ignore[misc]
        response.status_code = 400
        return response


class LoginView(_InvalidFormIsBadRequest, auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True
    next_page = "portal:my_tickets"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["registration_open"] = PortalSettings.load().public_registration
        return context


class LogoutView(auth_views.LogoutView):
    next_page = "portal:home"


class PasswordResetView(_InvalidFormIsBadRequest, auth_views.PasswordResetView):
    form_class = SetOrResetPasswordForm
    template_name = "portal/password_reset_form.html"
    subject_template_name = "emails/portal_password_reset_subject.txt"
    email_template_name = "emails/portal_password_reset.txt"
    html_email_template_name = "emails/portal_password_reset.html"
    success_url = reverse_lazy("portal:password_reset_done")
    title = gettext_lazy("Set or reset your password")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        if throttle.refuse_form(self.request, throttle.Scope.PASSWORD_RESET, form, account=form.cleaned_data["email"]):
            return self.render_to_response(self.get_context_data(form=form), status=429)
        # Links in mail use the desk's public address, never the Host header of this request.
        self.extra_email_context = {"base_url": settings.TESSERA["BASE_URL"].rstrip("/")}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"
    title = gettext_lazy("Check your email")


class PasswordResetConfirmView(_InvalidFormIsBadRequest, auth_views.PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")
    post_reset_login = True
    title = gettext_lazy("Choose a password")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"
    title = gettext_lazy("Your password is set")
