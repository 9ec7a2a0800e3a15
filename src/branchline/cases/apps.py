from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "branchline.cases"
    label = "cases"
