"""The Data Products page of the Airflow UI: a FastAPI app mounted by the Lodestar plugin.

Importing this package stays cheap (every Airflow process imports the plugin): the app itself,
with its Airflow security imports, is built by :class:`DeferredApp` on its first request.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

APP_FACTORY = "lodestar.airflow.ui.app:create_app"


class DeferredApp:
    """An ASGI app that builds the real one from ``factory`` (``module:function``) when first
    called."""

    def __init__(self, factory: str = APP_FACTORY, **kwargs: Any) -> None:
        self.factory = factory
        self.kwargs = kwargs
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()

    def build(self) -> ASGIApp:
        with self._lock:
            if self._app is None:
                module, _, name = self.factory.partition(":")
                self._app = getattr(importlib.import_module(module), name)(**self.kwargs)
            return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app or self.build()
        await app(scope, receive, send)


__all__ = ["APP_FACTORY", "DeferredApp"]
