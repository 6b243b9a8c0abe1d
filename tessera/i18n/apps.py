from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class I18nConfig(AppConfig):
    """The desk in the reader's language: choosing it (middleware, picker) and building catalogues."""

    name = "tessera.i18n"
    label = "tessera_i18n"
    verbose_name = _("Languages")
