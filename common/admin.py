from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin page that shows rows but changes none: the rows change only through
    the service functions (pages, commands, the scheduler)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
