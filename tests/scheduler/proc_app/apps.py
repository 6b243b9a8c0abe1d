import os
from datetime import timedelta

from django.apps import AppConfig

from tessera.scheduler.registry import register


class ProcAppConfig(AppConfig):
    name = "tests.scheduler.proc_app"
    label = "scheduler_proc_app"

    def ready(self) -> None:
        every = timedelta(seconds=float(os.environ.get("TEST_JOB_SECONDS", "1")))
        register("test.append", every=every, func="tests.scheduler.proc_app.jobs.append")
