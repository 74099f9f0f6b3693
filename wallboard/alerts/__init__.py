"""Alerts beyond the screen (Apprise channels, rules, deliveries) and announcements."""
