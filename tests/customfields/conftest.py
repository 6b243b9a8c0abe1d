"""A desk whose "Server outage" topic asks a hardware form, and a form asked on every ticket."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tessera.customfields.models import Audience, ChoiceItem, ChoiceList, Field, FieldType, Form, Target


@pytest.fixture
def forms(desk):
    offices = ChoiceList.objects.create(name="Offices")
    berlin = ChoiceItem.objects.create(choice_list=offices, label="Berlin", order=1)
    lisbon = ChoiceItem.objects.create(choice_list=offices, label="Lisbon", order=2)
    symptoms = ChoiceList.objects.create(name="Symptoms", shared=False)
    noise = ChoiceItem.objects.create(choice_list=symptoms, label="Noise", order=1)
    smoke = ChoiceItem.objects.create(choice_list=symptoms, label="Smoke", order=2)
    other_list = ChoiceList.objects.create(name="Colours")
    red = ChoiceItem.objects.create(choice_list=other_list, label="Red")

    hardware = Form.objects.create(title="Hardware", instructions="About the machine.")
    hardware.topics.add(desk.outage)
    every = Form.objects.create(title="Everyone", for_all_tickets=True)

    def field(form, key, label, kind, **extra):
        return Field.objects.create(form=form, key=key, label=label, type=kind, **extra)

    asset = field(
        hardware,
        "asset_tag",
        "Asset tag",
        FieldType.SHORT_TEXT,
        required=True,
        pattern=r"[A-Z]{2}-\d{4}",
        pattern_message="Two capital letters, a dash and four digits.",
        order=1,
    )
    office = field(hardware, "office", "Office", FieldType.LIST, choice_list=offices, order=2)
    since = field(hardware, "affected_since", "Affected since", FieldType.DATE, order=3)
    seen = field(hardware, "symptoms", "Symptoms", FieldType.MULTIPLE_CHOICE, choice_list=symptoms, order=4)
    cost = field(
        hardware,
        "cost",
        "Repair cost",
        FieldType.NUMBER,
        min_value=0,
        max_value=5000,
        audience=Audience.AGENTS,
        order=5,
    )
    triage = field(hardware, "triage_note", "Triage", FieldType.LONG_TEXT, audience=Audience.END_USER_SEES, order=6)
    phone = field(every, "phone", "Phone", FieldType.PHONE, order=1)
    urgent = field(every, "urgent", "Stops my work", FieldType.CHECKBOX, order=2)
    user_form = Form.objects.create(title="Person", target=Target.USER)
    badge = field(user_form, "badge", "Badge number", FieldType.NUMBER, min_value=1)
    org_form = Form.objects.create(title="Company", target=Target.ORGANIZATION)
    contract = field(org_form, "contract_until", "Contract until", FieldType.DATE)
    return SimpleNamespace(**locals())
