from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "branchline.conversations"
    label = "conversations"
