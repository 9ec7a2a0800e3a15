from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "branchline.realtime"
    label = "realtime"
