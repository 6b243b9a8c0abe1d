"""The task pages of the agent workspace, under /staff/tasks/ (tasks.views)."""

from django.urls import path

from . import views

app_name = "tasks"
urlpatterns = [
    path("", views.task_queue, name="queue"),
    path("mine/", views.my_tasks, name="mine"),
    path("new/", views.new_task, name="new"),
    path("<int:number>/", views.task_page, name="task"),
    path("<int:number>/<slug:action>/", views.task_action, name="task_action"),
]
