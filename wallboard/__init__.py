"""Wallboard: real-time contact-center wallboards for 8x8 Contact Center tenants."""

from wallboard.celery import app as celery_app

__all__ = ["celery_app"]
__version__ = "0.1.0"
