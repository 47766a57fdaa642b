"""View guards. Each re-checks, on every request, who may see what in which tenant;
the tenant itself was chosen and checked by customers.middleware.

Access ends on time because it is derived from the clock on every request, never
from a job having run:

- a learner reaches the training only while holding a valid allocation
  (``licensed_learner_required``); otherwise they see a page saying their licence
  has expired and whom to contact;
- a customer whose orders have all expired (rule 5) keeps its managers on the
  Licences pages needed to renew (the ``licences`` namespace: orders, Request
  Licences, Expired Licences, Import Allocation, the renewal page); every other page,
  the Licences overview included, sends them to the renewal page, which says so.
  Partner managers in manage mode are never locked out.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

# The one page of the licences namespace an expired customer's managers do not get:
# they land on the renewal page instead.
EXPIRED_CUSTOMER_LANDING = "overview"
RENEWAL_PAGE = "licences:renewal"


def _require(test):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not test(request):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _is_partner_manager(request):
    user = request.user
    return user.is_partner_manager and user.partner.is_active


def _manages_current_customer(request):
    """A customer manager in their own company, or a partner manager in manage mode."""
    if request.tenant is None:
        return False
    if request.in_manage_mode:
        return True
    return request.user.is_customer_manager and request.user.customer_id == request.tenant.pk


def _is_learner(request):
    return request.user.is_learner and request.tenant is not None


def _locked_out_of(request) -> bool:
    """A customer manager of an expired customer, on a page not needed to renew."""
    if request.in_manage_mode:
        return False
    match = request.resolver_match
    if match is not None and match.namespace == "licences" and match.url_name != EXPIRED_CUSTOMER_LANDING:
        return False
    from licences.services import customer_is_expired

    return customer_is_expired(request.tenant)


def customer_manager_required(view):
    """A customer manager in their own company, or a partner manager in manage mode;
    an expired customer's managers are sent to the renewal page from every page but
    the licence pages needed to renew."""
    guarded = _require(_manages_current_customer)(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_authenticated and _manages_current_customer(request) and _locked_out_of(request):
            return redirect(RENEWAL_PAGE)
        return guarded(request, *args, **kwargs)

    return wrapped


def licensed_learner_required(view):
    """A learner holding a valid licence right now; any other learner gets the page
    saying their licence has expired and whom to contact, and nothing else."""
    guarded = _require(_is_learner)(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_authenticated and _is_learner(request):
            from accounts.models import Role, User
            from learners.models import Allocation
            from learners.services import holds_valid_licence

            if not holds_valid_licence(request.user.email):
                ever_licensed = Allocation.objects.filter(learner__email=request.user.email).exists()
                managers = User.objects.filter(
                    customer=request.tenant, role=Role.CUSTOMER_MANAGER, is_active=True
                ).order_by("full_name", "email")
                return render(
                    request,
                    "learners/licence_expired.html",
                    {"managers": managers, "partner": request.tenant.partner, "ever_licensed": ever_licensed},
                )
        return guarded(request, *args, **kwargs)

    return wrapped


partner_manager_required = _require(_is_partner_manager)
learner_required = _require(_is_learner)
