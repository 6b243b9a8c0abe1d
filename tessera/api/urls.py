from django.urls import path, re_path

from tessera.api.osticket import views as osticket
from tessera.api.v1 import api

urlpatterns = [
    path("v1/", api.urls),
    # osTicket's ticket API, with and without its URL rewriting (tessera/api/osticket).
    *(
        path(f"{prefix}tickets.{fmt}", osticket.tickets, {"fmt": fmt}, name=f"osticket-{name}{fmt}")
        for prefix, name in (("", ""), ("http.php/", "http-"))
        for fmt in osticket.FORMATS
    ),
    # Any other extension or path there answers osTicket's 400 "URL not supported".
    re_path(r"^(?:http\.php/.*|tickets\.[^/]*)$", osticket.unsupported),
]
