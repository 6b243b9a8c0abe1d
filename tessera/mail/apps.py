from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "tessera.mail"
    verbose_name = _("Email")
    default_auto_field = "django.db.models.BigAutoField"
