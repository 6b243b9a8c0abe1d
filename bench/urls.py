"""Tessera's URLs plus the framework floor."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from tessera.tickets.models import Ticket
from tessera.urls import handler400  # noqa: F401  the same refusals as the desk's
from tessera.urls import urlpatterns as tessera_urlpatterns


@require_GET
def floor(request: HttpRequest) -> HttpResponse:
    """The least a Django page here can cost: the middleware stack and one query on a unique
    index (a ticket by number), no session, no template."""
    try:
        number = int(request.GET.get("n", "0"))
    except ValueError:
        number = 0
    subject = Ticket.objects.filter(number=number).values_list("subject", flat=True).first()
    return HttpResponse(subject or "-", content_type="text/plain; charset=utf-8")


urlpatterns = [path("bench/floor/", floor, name="bench-floor"), *tessera_urlpatterns]
