"""Every desk starts with the "24×7" schedule and a default plan counted in it.

Tickets a desk already has get no plan here: they get one, and their due times, the next time a
service recomputes them (a change of priority, status or department); nothing turns overdue at
once because of the upgrade.
"""

from datetime import time

from django.db import migrations

DEFAULT_SCHEDULE = "24×7"
DEFAULT_PLAN = "Default"


def create(apps, schema_editor):
    Schedule = apps.get_model("sla", "Schedule")
    ScheduleInterval = apps.get_model("sla", "ScheduleInterval")
    SlaPlan = apps.get_model("sla", "SlaPlan")
    schedule, created = Schedule.objects.get_or_create(name=DEFAULT_SCHEDULE, defaults={"time_zone": "UTC"})
    if created:
        ScheduleInterval.objects.bulk_create(
            ScheduleInterval(schedule=schedule, weekday=day, start=time(0), end=time(0)) for day in range(7)
        )
    if not SlaPlan.objects.exists():
        # A day to answer, three to resolve, around the clock: a start an administrator refines.
        SlaPlan.objects.create(
            name=DEFAULT_PLAN,
            schedule=schedule,
            first_response_minutes=24 * 60,
            resolution_minutes=3 * 24 * 60,
            is_default=True,
        )


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_schedules_and_plans")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
