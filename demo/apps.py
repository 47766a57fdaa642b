from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data (``manage.py seed_demo``): at the top of the tree, below config,
    because it uses every app's services."""

    name = "demo"
    verbose_name = "Demo data"
