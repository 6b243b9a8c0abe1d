"""Mail the portal sends by itself (the ticket services send everything else).

The status page only enqueues: the request answers the same way, at about the same
speed, whether or not a message goes out, and a slow mail server never holds a page.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tessera.accounts import registration
from tessera.accounts.models import User
from tessera.i18n.languages import language_of, shipped
from tessera.mail.message import GuardedEmail
from tessera.mail.outbound import named_address
from tessera.single_line import single_line
from tessera.tickets import access_links, policy
from tessera.tickets.models import Ticket

from . import selectors as portal_selectors


def _from_address(ticket: Ticket) -> str:
    department = ticket.department
    if department.email:
        return named_address(department.name, department.email)
    return str(settings.DEFAULT_FROM_EMAIL)


@task()
def send_access_link(ticket_id: int, user_id: int) -> bool:
    """Email one person the private link to a ticket they are a party to.

    Checked again here because the queue may run later, after the person stopped
    being a party to the ticket.
    """
    ticket = Ticket.objects.select_related("department", "status").filter(pk=ticket_id).first()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if ticket is None or user is None or not policy.is_end_user_party(user, ticket):
        return False
    ctx = {
        "ticket": ticket,
        "recipient": user,
        "link": access_links.access_url(ticket, user),
        "is_agent": False,
    }
    with translation.override(language_of(user)):
        subject = single_line(render_to_string("emails/portal_access_link_subject.txt", ctx))
        text = render_to_string("emails/portal_access_link.txt", ctx)
        html = render_to_string("emails/portal_access_link.html", ctx)
    message = GuardedEmail(  # refuses a header with a line break (tessera.mail.message)
        subject=f"[{ticket.reference}] {subject}",
        body=text,
        from_email=_from_address(ticket),
        to=[user.email],
        headers={"X-Tessera-Ticket": str(ticket.number), "Auto-Submitted": "auto-replied"},
    )
    message.attach_alternative(html, "text/html")
    message.send()
    return True


def _send(to: str, template: str, ctx: dict[str, object], *, language: str, from_email: str | None = None) -> None:
    """One mail from templates/emails/<template>{_subject.txt,.txt,.html}, in `language` (the
    recipient's: tessera.i18n.languages.language_of, or the sign-up page's for a new address)."""
    ctx = {"base_url": settings.TESSERA["BASE_URL"].rstrip("/"), **ctx}
    with translation.override(language):
        subject = single_line(render_to_string(f"emails/{template}_subject.txt", ctx))
        text = render_to_string(f"emails/{template}.txt", ctx)
        html = render_to_string(f"emails/{template}.html", ctx)
    message = GuardedEmail(
        subject=subject,
        body=text,
        from_email=from_email or str(settings.DEFAULT_FROM_EMAIL),
        to=[to],
        headers={"Auto-Submitted": "auto-replied"},
    )
    message.attach_alternative(html, "text/html")
    message.send()


@task()
def send_signup_link(email: str, name: str, language: str = "") -> bool:
    """The verification link of a Help Center sign-up; the password is chosen on its page. In the
    language the sign-up page was in (there is no account to ask yet)."""
    if registration.outcome_for(email)[0] != registration.Outcome.VERIFY:
        return False  # the address changed hands meanwhile (an account, or staff)
    token = registration.make_token(email, name)
    link = settings.TESSERA["BASE_URL"].rstrip("/") + reverse("portal:register_verify", args=[token])
    hours = settings.TESSERA["SIGNUP_LINK_HOURS"]
    language = language if language in shipped() else settings.LANGUAGE_CODE
    _send(
        email, "portal_signup_verify", {"name": name, "email": email, "link": link, "hours": hours}, language=language
    )
    return True


@task()
def send_existing_account(user_id: int) -> bool:
    """Someone signed up with an address that has an account: tell its owner, with a reset link,
    instead of saying so on the page (which would tell anyone which addresses have accounts)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password():
        return False
    path = reverse(
        "portal:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    link = settings.TESSERA["BASE_URL"].rstrip("/") + path
    login = settings.TESSERA["BASE_URL"].rstrip("/") + reverse("portal:login")
    context = {"recipient": user, "link": link, "login": login}
    _send(user.email, "portal_signup_existing", context, language=language_of(user))
    return True


OPEN_LINKS_MAX = 50  # a mail lists at most this many; the oldest open tickets beyond it are left out


@task()
def send_open_ticket_links(user_id: int) -> bool:
    """ "I lost my link": one mail listing a private link to each of the person's open tickets."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    tickets = portal_selectors.open_tickets_of(user, limit=OPEN_LINKS_MAX)
    if not tickets:
        return False
    base = settings.TESSERA["BASE_URL"].rstrip("/")
    rows = [{"ticket": t, "link": access_links.access_url(t, user)} for t in tickets]
    _send(
        user.email,
        "portal_open_tickets",
        {"recipient": user, "rows": rows, "status_url": base + reverse("portal:status")},
        language=language_of(user),
    )
    return True
