"""The shape every view guard shares: signed in, then a test of the request.

The guards themselves live with the rules they know: ``partners.permissions``
(partner managers), ``customers.permissions`` (who may act in the current tenant),
``licences.permissions`` (the expired-customer lockout), ``learners.permissions``
(a learner's access). Each re-checks, on every request, who may see what in which
tenant; the tenant itself was chosen and checked by customers.middleware."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


def require(test):
    """A decorator: anonymous visitors go to sign-in, signed-in users failing
    ``test(request)`` get 403, the others reach the view."""

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
