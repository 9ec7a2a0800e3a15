"""A small TCP proxy for fault injection: forwards 127.0.0.1:<port> to a target and can
`cut()` the link (drop every open connection and close new ones at once) and
`restore()` it, or `freeze()` it (a hung server, as under SIGSTOP: connections open and
stay open, new ones are accepted, but no byte moves either way) and `thaw()` it, after
which whatever was held is forwarded. It runs an asyncio loop in a daemon thread of the
test process.

    with TcpProxy("127.0.0.1", 6379) as proxy:
        env = server_env(..., redis_url=f"redis://127.0.0.1:{proxy.port}/0")
        ...
        proxy.cut(); ...; proxy.restore()
        proxy.freeze(); ...; proxy.thaw()
"""
import asyncio
import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.host = host
        self.port: int | None = None
        self.is_cut = False
        self.accepted = 0  # connections forwarded, for tests' curiosity
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing: asyncio.Event | None = None  # cleared while frozen

    # --- control, from the test thread ----------------------------------------------------
    def start(self, timeout: float = 5) -> "TcpProxy":
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="tcpproxy", daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or self.port is None:
            raise RuntimeError("the TCP proxy did not start")
        return self

    def cut(self) -> None:
        """Close every open connection; connections made while cut are closed at once."""
        self._call(self._cut)

    def restore(self) -> None:
        self._call(self._restore)

    def freeze(self) -> None:
        self._call(self._freeze)

    def thaw(self) -> None:
        self._call(self._thaw)

    def stop(self, timeout: float = 5) -> None:
        if self._loop is None or not self._loop.is_running():
            return
        self._call(self._shutdown)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)

    def __enter__(self) -> "TcpProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _call(self, fn, timeout: float = 5):
        return asyncio.run_coroutine_threadsafe(fn(), self._loop).result(timeout)

    # --- the loop thread ------------------------------------------------------------------
    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._flowing = asyncio.Event()
        self._flowing.set()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, sock=sock))
        ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _handle(self, client_reader, client_writer) -> None:
        if self.is_cut:
            self._abort(client_writer)
            return
        await self._flowing.wait()  # a frozen server accepts but does not answer
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self._abort(client_writer)
            return
        if self.is_cut:  # cut while we were connecting
            self._abort(client_writer)
            self._abort(upstream_writer)
            return
        self.accepted += 1
        self._writers.update((client_writer, upstream_writer))
        try:
            await asyncio.gather(self._pipe(client_reader, upstream_writer),
                                 self._pipe(upstream_reader, client_writer))
        finally:
            for writer in (client_writer, upstream_writer):
                self._writers.discard(writer)
                self._abort(writer)

    async def _pipe(self, reader, writer) -> None:
        try:
            while True:
                await self._flowing.wait()
                if not (data := await reader.read(65536)):
                    break
                await self._flowing.wait()  # bytes read just before a freeze are held too
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._abort(writer)

    @staticmethod
    def _abort(writer) -> None:
        try:
            writer.transport.abort()  # RST-like: no lingering half-closed sockets
        except Exception:
            pass

    async def _cut(self) -> None:
        self.is_cut = True
        for writer in list(self._writers):
            self._abort(writer)
        self._writers.clear()

    async def _restore(self) -> None:
        self.is_cut = False

    async def _freeze(self) -> None:
        self._flowing.clear()

    async def _thaw(self) -> None:
        self._flowing.set()

    async def _shutdown(self) -> None:
        await self._cut()
        self._server.close()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()
