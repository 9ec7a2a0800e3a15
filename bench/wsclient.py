"""A lean WebSocket client for the load generator: an asyncio Protocol, no extensions,
zero masking key, no per-frame coroutine. It is several times cheaper per frame than a
full client library, so the load generator is not what the benchmark measures.

Only what the bench needs: text frames (assembled if fragmented), ping -> pong, close.
The server never compresses (no extension is offered)."""
import asyncio
import base64
import os


class WSClient(asyncio.Protocol):
    def __init__(self, host: str, port: int, path: str, headers: dict[str, str] | None, on_text):
        self.host, self.port, self.path = host, port, path
        self.headers = headers or {}
        self.on_text = on_text  # on_text(client, payload: bytes); runs on the loop
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.open = False
        self.closed = False
        self.close_code: int | None = None
        self.fragments: bytearray | None = None
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self.lost: asyncio.Future = asyncio.get_running_loop().create_future()

    # --- connection ----------------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        transport.write(
            (f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
             f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
             f"{extra}\r\n").encode("latin-1")
        )

    def connection_lost(self, exc):
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed before the handshake: {exc!r}"))
        if not self.lost.done():
            self.lost.set_result(exc)

    def data_received(self, data):
        buf = self.buf
        buf += data
        if not self.open:
            i = buf.find(b"\r\n\r\n")
            if i < 0:
                return
            status = bytes(buf[:i]).split(b"\r\n", 1)[0]
            del buf[:i + 4]
            if b" 101" not in status:
                if not self.opened.done():
                    self.opened.set_exception(ConnectionError(status.decode(errors="replace")))
                self.transport.close()
                return
            self.open = True
            if not self.opened.done():
                self.opened.set_result(self)
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            ln, hdr = b1 & 0x7F, 2
            if ln == 126:
                if n - pos < 4:
                    break
                ln, hdr = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif ln == 127:
                if n - pos < 10:
                    break
                ln, hdr = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if n - pos < hdr + ln:
                break
            op = b0 & 0x0F
            fin = b0 & 0x80
            payload = bytes(buf[pos + hdr:pos + hdr + ln])
            pos += hdr + ln
            if op == 1 or op == 2:
                if fin:
                    self.on_text(self, payload)
                else:
                    self.fragments = bytearray(payload)
            elif op == 0 and self.fragments is not None:
                self.fragments += payload
                if fin:
                    payload, self.fragments = bytes(self.fragments), None
                    self.on_text(self, payload)
            elif op == 9:  # ping
                self._frame(0x8A, payload)
            elif op == 8:  # close: answer and let the server drop the TCP connection
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                if not self.closed:
                    self._frame(0x88, payload[:2])
                    self.closed = True
        if pos:
            del buf[:pos]

    # --- sending -----------------------------------------------------------------------
    def _frame(self, b0: int, payload: bytes) -> None:
        ln = len(payload)
        if ln < 126:
            hdr = bytes((b0, 0x80 | ln))
        elif ln < 65536:
            hdr = bytes((b0, 0x80 | 126)) + ln.to_bytes(2, "big")
        else:
            hdr = bytes((b0, 0x80 | 127)) + ln.to_bytes(8, "big")
        # A zero masking key leaves the payload unchanged (RFC 6455 allows any key).
        self.transport.write(hdr + b"\x00\x00\x00\x00" + payload)

    def send_text(self, payload: bytes) -> None:
        if not self.closed:
            self._frame(0x81, payload)

    def close(self) -> None:
        if self.transport is None:
            return
        if not self.closed and self.open:
            self._frame(0x88, (1000).to_bytes(2, "big"))
        self.closed = True
        self.transport.close()


async def connect(url: str, on_text, headers: dict[str, str] | None = None, timeout: float = 20) -> WSClient:
    """url: ws://host:port/path"""
    assert url.startswith("ws://"), url
    hostport, _, path = url[5:].partition("/")
    host, _, port = hostport.partition(":")
    loop = asyncio.get_running_loop()
    _, client = await asyncio.wait_for(
        loop.create_connection(lambda: WSClient(host, int(port or 80), "/" + path, headers, on_text), host,
                               int(port or 80)),
        timeout,
    )
    await asyncio.wait_for(client.opened, timeout)
    return client
