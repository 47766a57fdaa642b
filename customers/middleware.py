from django.contrib import messages
from django.db import connection

from accounts.models import Role
from customers.models import Customer

MANAGED_CUSTOMER_SESSION_KEY = "managed_customer_id"


def managed_customer_for(user, session) -> Customer | None:
    """The customer a partner manager is managing, re-checked against the database:
    the customer must still exist, be active and belong to the manager's partner."""
    customer_id = session.get(MANAGED_CUSTOMER_SESSION_KEY)
    if customer_id is None or not user.is_partner_manager:
        return None
    return (
        Customer.objects.filter(pk=customer_id, partner_id=user.partner_id, is_active=True, partner__is_active=True)
        .select_related("partner")
        .first()
    )


class TenantContextMiddleware:
    """Runs every request in the right schema, decided from the signed-in user and
    the session (never the host name), and always hands the connection back to the
    public schema afterwards, error or not.

    - customer managers and learners: their own customer's schema;
    - partner managers: public, or the managed customer's while in manage mode;
    - everyone else: public.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        connection.set_schema_to_public()
        request.tenant = None
        request.in_manage_mode = False
        user = request.user
        if user.is_authenticated:
            if user.role in (Role.CUSTOMER_MANAGER, Role.LEARNER):
                # Loaded with the user (accounts.backends), so read fresh on every request.
                customer = user.customer
                request.tenant = customer if customer is not None and customer.is_active else None
            elif user.role == Role.PARTNER_MANAGER:
                request.tenant = managed_customer_for(user, request.session)
                request.in_manage_mode = request.tenant is not None
                if request.tenant is None and MANAGED_CUSTOMER_SESSION_KEY in request.session:
                    # The right to manage that customer is gone: leave manage mode.
                    del request.session[MANAGED_CUSTOMER_SESSION_KEY]
                    messages.warning(request, "You no longer manage that company, so manage mode has ended.")
        try:
            if request.tenant is not None:
                connection.set_tenant(request.tenant)
            return self.get_response(request)
        finally:
            connection.set_schema_to_public()
