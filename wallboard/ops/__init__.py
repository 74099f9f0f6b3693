"""What operators and their monitoring ask of a deployment: `/healthz` (is it up, are the
tenants polled) and the system checks of `manage.py check --deploy` (is it configured safely).
"""
