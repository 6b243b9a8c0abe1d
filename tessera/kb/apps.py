from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeBaseConfig(AppConfig):
    name = "tessera.kb"
    label = "kb"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        # local import: the demo registry lives in the ticket core, which never imports this app.
        from tessera.tickets import demo

        from . import demo as kb_demo

        demo.register(kb_demo.add_demo_articles)
