from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "branchline.accounts"
    label = "accounts"
