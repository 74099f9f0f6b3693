"""Websocket routing for board updates.

The origin check comes first: a page on another site must not open a board with a visitor's
session cookie. Then cookies and the session, which carry the user or the display cookie.
"""

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import re_path

from wallboard.live.consumers import BoardConsumer

websocket_urlpatterns = [
    re_path(r"^ws/boards/(?P<slug>[a-z0-9][a-z0-9-]*)/$", BoardConsumer.as_asgi()),
]

websocket_application = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
