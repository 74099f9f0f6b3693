"""The Celery application: JSON only, prefork pool, time limits on every task."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wallboard.settings")

app = Celery("wallboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _reset_query_log(**kwargs) -> None:
    # Under DEBUG Django logs every query and empties the log at each request; a worker serves
    # no requests, so without this its log fills up to 9,000 queries per process and thread.
    # Imported at the first task, not at the top: wallboard/__init__.py loads this module, so
    # it runs while settings.py itself is being imported, too early to pull in django.db.
    from django.db import reset_queries

    reset_queries()
