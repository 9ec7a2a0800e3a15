from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "branchline.core"
    label = "core"
