from django.contrib import admin

from .models import HelpTopic, Priority, Status


@admin.register(Priority)
class PriorityAdmin(admin.ModelAdmin):
    list_display = ["name", "urgency", "colour", "is_default"]


@admin.register(Status)
class StatusAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "order", "is_default"]
    list_filter = ["state"]


@admin.register(HelpTopic)
class HelpTopicAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "default_priority", "is_public", "is_active"]
    list_filter = ["department", "is_public", "is_active"]
