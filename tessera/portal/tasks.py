"""Mail the portal sends by itself (the ticket services send everything else).

The status page only enqueues: the request answers the same way, at about the same
speed, whether or not a message goes out, and a slow mail server never holds a page.
"""

from __future__ import annotations

from django.conf import settings
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import translation

from tessera.accounts.models import User
from tessera.i18n.languages import language_of
from tessera.mail.message import GuardedEmail
from tessera.mail.outbound import named_address
from tessera.single_line import single_line
from tessera.tickets import access_links, policy
from tessera.tickets.models import Ticket


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
