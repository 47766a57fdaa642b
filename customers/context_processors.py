def tenant_context(request):
    return {
        "current_customer": getattr(request, "tenant", None),
        "in_manage_mode": getattr(request, "in_manage_mode", False),
    }
