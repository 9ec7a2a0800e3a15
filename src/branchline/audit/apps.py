from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "branchline.audit"
    verbose_name = "Audit trail"
