"""View guards. Each re-checks, on every request, who may see what in which tenant;
the tenant itself was chosen and checked by customers.middleware."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


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


partner_manager_required = _require(_is_partner_manager)
customer_manager_required = _require(_manages_current_customer)
learner_required = _require(_is_learner)
