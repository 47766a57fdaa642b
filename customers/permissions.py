"""Who may act in the current tenant (request.tenant, set by the middleware)."""


def manages_current_customer(request) -> bool:
    """A customer manager in their own company, or a partner manager in manage mode."""
    if request.tenant is None:
        return False
    if request.in_manage_mode:
        return True
    return request.user.is_customer_manager and request.user.customer_id == request.tenant.pk


def is_learner_of_current_customer(request) -> bool:
    return request.user.is_learner and request.tenant is not None
