from accounts.permissions import require


def is_partner_manager(request) -> bool:
    user = request.user
    return user.is_partner_manager and user.partner.is_active


partner_manager_required = require(is_partner_manager)
