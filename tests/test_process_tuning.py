"""Allocator and garbage collector settings of the long-running processes."""

from __future__ import annotations

import ctypes
import gc
import platform

import pytest

from wallboard.live import allocator
from wallboard.polling import collector


@pytest.fixture
def saved_gc():
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)
    gc.unfreeze()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_it_fixes_glibc_malloc_settings():
    assert allocator.tune() is True


def test_it_leaves_a_c_library_without_mallopt_alone(monkeypatch):
    def no_libc(*args, **kwargs):
        raise OSError("no such library")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    assert allocator.tune() is False


def test_it_collects_young_objects_less_often_in_pollers(saved_gc):
    collector.tune()
    assert gc.get_threshold()[0] == collector.FIRST_THRESHOLD
    assert gc.get_freeze_count() > 0


def test_it_tunes_each_worker_process_when_it_starts(saved_gc):
    from celery.signals import worker_process_init

    import wallboard.celery  # noqa: F401  (connects the handler)

    gc.set_threshold(700, 10, 10)
    worker_process_init.send(sender=None)
    assert gc.get_threshold()[0] == collector.FIRST_THRESHOLD


def test_it_empties_the_debug_query_log_before_each_task(settings):
    from celery.signals import task_prerun
    from django.db import connection

    import wallboard.celery  # noqa: F401  (connects the handler)

    connection.queries_log.append({"sql": "SELECT 1", "time": "0.001"})
    task_prerun.send(sender=None, task_id="t", task=None, args=(), kwargs={})
    assert len(connection.queries_log) == 0
