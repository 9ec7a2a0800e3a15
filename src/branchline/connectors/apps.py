from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "branchline.connectors"
    label = "connectors"
