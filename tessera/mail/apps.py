from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from tessera.scheduler.registry import register


class MailConfig(AppConfig):
    name = "tessera.mail"
    verbose_name = _("Email")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # local import: models (which notices and notifications import) can only load once the
        # app registry is ready, which is after this module is imported.
        from tessera.tasks import notifications as task_notifications
        from tessera.tickets import notifications

        from .notices import MailCarrier, TaskMailCarrier

        # Ticket changes reach people by mail: the core asks its carrier, never this app.
        notifications.register_carrier(MailCarrier())
        task_notifications.register_carrier(TaskMailCarrier())

        # Periodic jobs (docs/architecture.md, "Background work"): the scheduler runs each once per interval.
        register("mail.poll_mailboxes", every=timedelta(minutes=1), func="tessera.mail.jobs.poll_mailboxes")
        register("mail.retry_outbound", every=timedelta(minutes=1), func="tessera.mail.jobs.retry_mail")
        register("mail.retry_inbound", every=timedelta(minutes=5), func="tessera.mail.jobs.retry_inbound")
