from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Tessera configuration")
admin.site.site_title = _("Tessera admin")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("staff/", include("tessera.staff.urls")),
    path("", include("tessera.portal.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
