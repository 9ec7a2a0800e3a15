from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "branchline.contacts"
    label = "contacts"
