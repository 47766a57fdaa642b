from django.apps import AppConfig


class LearnersConfig(AppConfig):
    name = "learners"
    verbose_name = "Learners and allocations (tenant schema)"

    def ready(self):
        from learners import receivers  # noqa: F401 (connects the lapses' recording to renewals)
