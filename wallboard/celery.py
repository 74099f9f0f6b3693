"""The Celery application: JSON only, prefork pool, time limits on every task."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wallboard.settings")

app = Celery("wallboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _tune_collector(**kwargs) -> None:
    # Each prefork child, once its imports are done: it parses megabyte answers every cycle.
    from wallboard.core import allocator
    from wallboard.polling import collector

    allocator.tune()
    collector.tune()
