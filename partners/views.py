"""Manage mode (entered from Company → Actions → Manage Company, left with Exit), and
the partner's security settings."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from partners import services
from partners.forms import PartnerTimeZoneForm, TwoFactorRequirementForm
from partners.permissions import partner_manager_required
from partners.picker import MAX_SEARCH, SHOWN_MATCHES, matching_customers


@require_POST
@partner_manager_required
def manage_company(request, customer_id):
    customer = get_object_or_404(services.customers_of(request.user.partner), pk=customer_id)
    services.enter_manage_mode(request.session, customer, acting_user=request.user)
    messages.success(request, f"You are now managing {customer.name}.")
    return redirect("licences:overview")


@require_POST
@partner_manager_required
def exit_manage_mode(request):
    customer = request.tenant if request.in_manage_mode else None
    services.exit_manage_mode(request.session, customer, acting_user=request.user)
    if customer is not None:
        messages.info(request, f"You have left {customer.name}.")
    return redirect("licences:companies")


@partner_manager_required
def two_factor_requirement(request):
    """Security settings of the manager's own partner: whether its managers must use
    two-factor sign-in, and who has it on."""
    partner = request.user.partner
    form = TwoFactorRequirementForm(
        request.POST if request.method == "POST" else None, initial={"require_two_factor": partner.require_two_factor}
    )
    if request.method == "POST" and form.is_valid():
        required = form.cleaned_data["require_two_factor"]
        if services.set_two_factor_requirement(partner, required, acting_user=request.user):
            if required:
                messages.success(request, "Two-factor sign-in is now required for every manager of this partner.")
            else:
                messages.success(request, "Two-factor sign-in is no longer required; each manager chooses.")
        return redirect("partners:two_factor_requirement")
    managers = partner.managers.filter(is_active=True).order_by("full_name", "email")
    return render(request, "partners/two_factor.html", {"form": form, "partner": partner, "managers": managers})


@partner_manager_required
def customer_lookup(request):
    """The customer picker's suggestions: the first of the manager's own partner's
    customers whose name contains ``q``, by name. One query however many there are."""
    text = request.GET.get("q", "").replace("\x00", "").strip()[:MAX_SEARCH]
    customers = matching_customers(services.customers_of(request.user.partner), text)
    found = list(customers.values_list("pk", "name")[: SHOWN_MATCHES + 1])
    return JsonResponse(
        {
            "results": [{"id": pk, "name": name} for pk, name in found[:SHOWN_MATCHES]],
            "more": len(found) > SHOWN_MATCHES,
        }
    )


@require_POST
@partner_manager_required
def partner_time_zone(request):
    """Set the partner's time zone (on its Notification settings page)."""
    form = PartnerTimeZoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a time zone from the list. Nothing was changed.")
    elif services.set_time_zone(request.user.partner, form.cleaned_data["time_zone"], acting_user=request.user):
        messages.success(request, f"Your time zone is now {form.cleaned_data['time_zone']}.")
    else:
        messages.info(request, "The time zone is unchanged.")
    return redirect("notifications:partner_settings")
