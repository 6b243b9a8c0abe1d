from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    name = "tessera.staff"
    verbose_name = _("Agent workspace")
