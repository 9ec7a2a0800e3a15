from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "branchline.web"
    label = "web"
