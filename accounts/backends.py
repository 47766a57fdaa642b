from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Django's model backend (the email is the username), loading the user's partner
    and customer in the same query: the tenant middleware and the view guards read
    them on every request."""

    def get_user(self, user_id):
        User = get_user_model()
        try:
            user = User._default_manager.select_related("partner", "customer__partner").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
