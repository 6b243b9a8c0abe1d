from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


def _forget_own_addresses(**kwargs) -> None:
    from .outbound import forget_own_addresses

    forget_own_addresses()


class MailConfig(AppConfig):
    name = "tessera.mail"
    verbose_name = _("Email")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The desk's own addresses are cached per process (outbound.own_addresses); a change made
        # in this process is seen at once, one made in another within OWN_ADDRESSES_SECONDS.
        for model in ("mail.Mailbox", "accounts.Department"):
            post_save.connect(_forget_own_addresses, sender=model, dispatch_uid=f"forget-own-{model}")
            post_delete.connect(_forget_own_addresses, sender=model, dispatch_uid=f"forget-own-del-{model}")
