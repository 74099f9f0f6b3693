"""Websocket routing for board updates.

A board's path goes through cookies, the session and the user (which carry the supervisor or
the display cookie); the consumer then checks the Origin and the grant, and refuses by closing
with a code after accepting, so the page can tell why (docs/protocol.md). Every other path gets
the same kind of answer (4404) instead of the router's exception, which the server turns into
an HTTP 500 with a traceback. No channels origin validator in front: it refuses before
accepting, which a browser only sees as a failed handshake, and it compares the host only.
"""

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import re_path

from wallboard.live.consumers import BoardConsumer, NotFoundConsumer

websocket_urlpatterns = [
    re_path(r"^ws/boards/(?P<slug>[a-z0-9][a-z0-9-]*)/$", AuthMiddlewareStack(BoardConsumer.as_asgi())),
    # Last: matches every path, so unknown ones cost no session or user lookup either.
    re_path(r"", NotFoundConsumer.as_asgi()),
]

websocket_application = URLRouter(websocket_urlpatterns)
