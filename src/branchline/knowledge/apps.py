from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "branchline.knowledge"
    label = "knowledge"
