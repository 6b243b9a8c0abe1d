"""Third-party apps whose admin pages an administrator rarely needs, listed under "System".

Why: the admin index is where a help-desk administrator configures the desk; the background
task backend's results are for diagnosing a stuck mail or export, not configuration, so they sit
under one plainly named heading instead of "Tasks Database Backend" among the desk's settings.
"""

from django_tasks_db.apps import TasksAppConfig

from django.utils.translation import gettext_lazy as _


class TaskResultsConfig(TasksAppConfig):
    verbose_name = _("System")  # type: ignore[assignment]  # a lazy string, as Django allows
