"""The demo desk's forms: the hardware topics ask for an asset tag, the office and since when,
every ticket may say whether it stops the person's work, and organisations keep a contract date.
Run by seed_demo (after the help topics exist); safe to run again (it adds nothing twice)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from tessera.customfields.models import Audience, ChoiceItem, ChoiceList, Field, FieldType, Form, Target
from tessera.tickets.models import HelpTopic

HARDWARE_TOPICS = ("Server or network outage", "Internal: hardware request")


class Command(BaseCommand):
    help = "Add the demo's custom forms and fields (the Hardware form and its office list)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if Field.objects.filter(key="asset_tag").exists():
            self.stdout.write("Demo forms already there.")
            return
        offices = ChoiceList.objects.create(name="Offices", description="Where our people work.")
        for order, label in enumerate(["Berlin", "Lisbon", "Toronto", "Remote"], start=1):
            ChoiceItem.objects.create(choice_list=offices, label=label, order=order)
        hardware = Form.objects.create(title="Hardware", instructions="Tell us which machine is affected.")
        hardware.topics.set(HelpTopic.objects.filter(name__in=HARDWARE_TOPICS))
        Field.objects.create(
            form=hardware,
            key="asset_tag",
            label="Asset tag",
            help_text="On the sticker under the machine, e.g. EX-1042.",
            type=FieldType.SHORT_TEXT,
            required=True,
            pattern=r"[A-Z]{2}-\d{4}",
            pattern_message="Two capital letters, a dash and four digits, e.g. EX-1042.",
            order=1,
        )
        Field.objects.create(
            form=hardware, key="office", label="Office", type=FieldType.LIST, choice_list=offices, order=2
        )
        Field.objects.create(form=hardware, key="affected_since", label="Affected since", type=FieldType.DATE, order=3)
        Field.objects.create(
            form=hardware,
            key="replacement_cost",
            label="Replacement cost",
            type=FieldType.NUMBER,
            min_value=0,
            audience=Audience.AGENTS,
            order=4,
        )
        every = Form.objects.create(title="Impact", for_all_tickets=True, order=0)
        Field.objects.create(form=every, key="blocks_work", label="This stops me working", type=FieldType.CHECKBOX)
        company = Form.objects.create(title="Contract", target=Target.ORGANIZATION)
        Field.objects.create(form=company, key="contract_until", label="Contract until", type=FieldType.DATE)
        self.stdout.write("Added the demo forms: Hardware, Impact, Contract.")
