from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "tessera.tasks"
    label = "tasks"
    verbose_name = _("Tasks")

    def ready(self) -> None:
        # local import: the models are loaded only once the app registry is ready
        from tessera.tickets import close_guards, demo, merge_hooks

        from . import demo as task_demo
        from . import services

        # A ticket with open tasks does not close unless the agent confirms (and may close them).
        close_guards.register(services.close_guard)
        # A merged ticket's tasks go on with the ticket it was merged into.
        merge_hooks.register(services.move_with_merge)
        # seed_demo's sample tasks.
        demo.register(task_demo.add_demo_tasks)
