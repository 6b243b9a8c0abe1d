from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "tessera.accounts"
    verbose_name = _("People and organisation")

    def ready(self) -> None:
        # local import: receivers connect to models' signals once the app registry is ready
        from . import receivers  # noqa: F401  (connects the lockout counters)
