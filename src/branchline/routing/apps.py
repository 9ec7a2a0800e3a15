from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "branchline.routing"
    label = "routing"
