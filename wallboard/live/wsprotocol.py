"""uvicorn's websocket protocol, made light enough to hold a thousand idle TVs per process.

Two things cost memory per open connection, whatever it carries:

- permessage-deflate keeps a zlib compressor (about 150 kB once it has compressed a snapshot)
  and a decompressor for as long as the connection is open. Negotiating no context takeover in
  both directions makes each message carry its own dictionary, so the compressor exists only
  while a message is being compressed. Board messages are self-contained JSON (a patch repeats
  its paths), so they still compress several-fold on their own.
- the same message went through zlib once per connection: a 50 kB patch to a thousand screens
  is a thousand compressions of identical bytes, which spread one cycle's delivery over
  hundreds of milliseconds. Without context takeover the compressed frame depends only on the
  message and the window size, so the last few results are shared between connections.
- uvicorn's default implementation (websockets' legacy protocol) runs three asyncio tasks,
  a stream reader and several events per connection; the sans-I/O implementation uses timers
  and a plain protocol object instead.
- what the sans-I/O protocol still keeps per connection but no longer needs (tracemalloc with
  1,000 idle screens): an asyncio.Queue for the app's receive (three deques, about 3 kB while
  empty; a LightQueue instead), and the handshake's request and response with their headers
  (about 3 kB) once the handshake is done.

Measured with bench/fanout.py (docs/performance.md, "Fan-out" and "Fan-out across two web
processes"): from about 250 kB to under 40 kB per idle connection. Use it with `uvicorn --ws wallboard.live.wsprotocol:WebSocketProtocol`.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.base import Extension
from websockets.extensions.permessage_deflate import PerMessageDeflate, ServerPerMessageDeflateFactory
from websockets.frames import BINARY, TEXT, Frame
from websockets.server import ServerProtocol
from websockets.typing import ExtensionParameter

from wallboard.live.layer import LightQueue

# Messages smaller than this are cheaper to compress than to look up.
SHARE_MIN_BYTES = 2048
SHARE_MAX_ENTRIES = 8


class _SharedFrames:
    """The compressed form of the last few large messages, by (window bits, payload)."""

    def __init__(self, size: int = SHARE_MAX_ENTRIES):
        self.size = size
        self.entries: OrderedDict[tuple[int, bytes], bytes] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple[int, bytes]) -> bytes | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
                self.hits += 1
            return found

    def put(self, key: tuple[int, bytes], data: bytes) -> None:
        with self.lock:
            self.misses += 1
            self.entries[key] = data
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


shared_frames = _SharedFrames()


class SharedPerMessageDeflate(PerMessageDeflate):
    """permessage-deflate that compresses a large message once for every connection sending it.

    Only without (local) context takeover: then a message's compressed bytes do not depend on
    what the connection sent before.
    """

    def encode(self, frame: Frame) -> Frame:
        if not (self.local_no_context_takeover and frame.fin and frame.opcode in (TEXT, BINARY)
                and len(frame.data) >= SHARE_MIN_BYTES):
            return super().encode(frame)
        key = (self.local_max_window_bits, bytes(frame.data))
        data = shared_frames.get(key)
        if data is None:
            data = bytes(super().encode(frame).data)
            shared_frames.put(key, data)
        return Frame(frame.opcode, data, frame.fin, True, frame.rsv2, frame.rsv3)


class SharedDeflateFactory(ServerPerMessageDeflateFactory):
    """Negotiates like websockets' factory, then hands out the sharing extension."""

    def process_request_params(
        self, params: Sequence[ExtensionParameter], accepted_extensions: Sequence[Extension]
    ) -> tuple[list[ExtensionParameter], PerMessageDeflate]:
        response, ext = super().process_request_params(params, accepted_extensions)
        shared = SharedPerMessageDeflate(
            ext.remote_no_context_takeover, ext.local_no_context_takeover,
            ext.remote_max_window_bits, ext.local_max_window_bits, ext.compress_settings,
        )
        return response, shared


def deflate_factory() -> ServerPerMessageDeflateFactory:
    """permessage-deflate without context takeover, a small window and a small hash table."""
    return SharedDeflateFactory(
        server_no_context_takeover=True,
        client_no_context_takeover=True,
        server_max_window_bits=12,
        client_max_window_bits=12,
        compress_settings={"memLevel": 5},
    )


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websocket protocol, offering only the memory-light permessage-deflate."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = ServerProtocol(
            extensions=[deflate_factory()] if self.config.ws_per_message_deflate else [],
            max_size=self.config.ws_max_size,
            logger=logging.getLogger("uvicorn.error"),
        )
        self.queue = LightQueue()  # uvicorn only calls put_nowait, get and empty on it

    async def send(self, message: Any) -> None:
        """uvicorn's send; once the handshake is answered, its request and response are dropped."""
        await super().send(message)
        if self.handshake_complete and hasattr(self, "response"):
            del self.request, self.response
