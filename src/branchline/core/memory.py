"""Keep the garbage collector's full passes short in a long-running server process.

A process holds ~150,000 objects made at start-up (modules, settings, URL patterns, the
ORM's models, templates) that live as long as it does. CPython's full collection
(generation 2) walks every one of them each time, 90-100 ms with every request and socket
of the process waiting: it was the history benchmark's p99.9 (bench/README.md).
`gc.freeze()` moves the objects that exist once start-up is done out of the collector's
view for good; later collections walk only what was made since."""
import gc

from django.urls import get_resolver


def freeze_startup_objects() -> None:
    """Call once the process is ready to serve, before the first request."""
    get_resolver().url_patterns  # noqa: B018 - built lazily by the first request otherwise
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()
