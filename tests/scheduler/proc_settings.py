"""The desk's settings plus a test app whose jobs leave a trace the tests can count, for the
scheduler and worker processes the tests start (DJANGO_SETTINGS_MODULE=tests.scheduler.proc_settings)."""

from tessera.settings import *  # noqa: F403
from tessera.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.scheduler.proc_app"]
