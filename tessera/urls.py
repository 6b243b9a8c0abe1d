from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from tessera.api.problems import bad_request

admin.site.site_header = _("Tessera configuration")
admin.site.site_title = _("Tessera admin")


# Refused before any view (a malformed Host header): a problem document under /api/v1/.
handler400 = bad_request


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    # Resolved per request: the manifest's hashed name is only known after collectstatic.
    return redirect(static("favicon.svg"), permanent=True)


# Attachments are never served from MEDIA_URL: every download goes through a view that asks the policy.
urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/", include("tessera.api.urls")),
    path("account/", include("tessera.accounts.urls")),
    path("account/passkeys/", include("tessera.accounts.passkey_urls")),
    path("staff/mail/", include("tessera.mail.urls")),
    path("staff/canned/", include("tessera.canned.urls")),
    path("staff/tasks/", include("tessera.tasks.urls")),
    path("staff/kb/", include("tessera.kb.staff_urls")),
    path("staff/", include("tessera.staff.urls")),
    path("fields/", include("tessera.customfields.urls")),
    path("account/sessions/", include("tessera.audit.urls")),
    path("kb/", include("tessera.kb.urls")),
    path("", include("tessera.satisfaction.urls")),
    path("language/", include("tessera.i18n.urls")),
    path("", include("tessera.portal.urls")),
]
