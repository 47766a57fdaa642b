"""Guards of the customer's pages, with rule 5: a customer whose orders have all
expired keeps its managers on the pages needed to renew (``needed_to_renew``); every
other page (``customer_manager_required``) sends them to the renewal page, which says
so. The Licences overview does the same from the orders it reads anyway
(licences.services.assigned_orders): a query saved on the customer's busiest page.
Partner managers in manage mode are never locked out."""

from functools import wraps

from django.shortcuts import redirect

from accounts.permissions import require
from customers.permissions import manages_current_customer
from licences.services import valid_orders_and_expired

RENEWAL_PAGE = "licences:renewal"


def needed_to_renew(view):
    """A customer manager in their own company, or a partner manager in manage mode;
    open to an expired customer's managers too: for the pages they need to renew
    (orders, Request Licences, Expired Licences, Import Allocation, the renewal page)."""
    return require(manages_current_customer)(view)


def customer_manager_required(view):
    """A customer manager in their own company, or a partner manager in manage mode;
    an expired customer's managers are sent to the renewal page.

    For a customer manager the guard reads the customer's valid orders and rule 5 in
    one query (services.valid_orders_and_expired) and leaves the orders on the request
    as ``valid_orders``, so that a page listing seat sources does not read them again."""
    guarded = needed_to_renew(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_authenticated and manages_current_customer(request) and not request.in_manage_mode:
            request.valid_orders, expired = valid_orders_and_expired(request.tenant)
            if expired:
                return redirect(RENEWAL_PAGE)
        return guarded(request, *args, **kwargs)

    return wrapped
