from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    default = True  # this module holds the admin's config too
    name = "accounts"
    verbose_name = "Users and audit log"


class OperatorAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the operators' site as the default ``admin.site``:
    every app's ``@admin.register`` lands on the site that requires a verified code."""

    default = False
    default_site = "accounts.admin_site.OperatorAdminSite"
