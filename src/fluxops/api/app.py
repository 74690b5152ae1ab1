"""The app factory: the composition root that wires settings, the store and the domain routers."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

from fastapi import Depends, FastAPI

from fluxops import __version__
from fluxops.api import routes as routes_pkg
from fluxops.core.config import Settings, get_settings


def _route_modules() -> list[ModuleType]:
    mods = []
    for info in sorted(pkgutil.iter_modules(routes_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mods.append(importlib.import_module(f"{routes_pkg.__name__}.{info.name}"))
    return mods


def create_app(settings: Settings | None = None, *, store: Any | None = None) -> FastAPI:
    """Build the application. ``store`` may be injected (tests); otherwise opened from settings."""
    settings = settings or get_settings()
    modules = _route_modules()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from fluxops.api import malloc_tuning
        from fluxops.storage import open_store

        malloc_tuning.install()  # before the store and the routes start their threads (memory flat)
        owns_store = store is None
        app.state.store = store if store is not None else open_store(settings)
        for mod in modules:
            hook: Callable[[FastAPI], Any] | None = getattr(mod, "on_startup", None)
            if hook is not None:
                hook(app)
        from fluxops.api.lifecycle import hook_signals

        unhook_signals = hook_signals(app)  # end streams, cancel jobs at the first SIGTERM, not after 10 s
        try:
            yield
        finally:
            unhook_signals()
            for mod in reversed(modules):
                hook = getattr(mod, "on_shutdown", None)
                if hook is not None:
                    hook(app)
            from fluxops.api.audit import flush_refusals

            flush_refusals(app)  # counted anonymous refusals not yet written
            if owns_store:
                app.state.store.close()
            malloc_tuning.uninstall()

    from fluxops.api.query_guard import reject_unknown_query_params

    app = FastAPI(
        title="Flux Operations Center",
        version=__version__,
        description="Operations center API for an electric distribution utility.",
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_query_params)],  # unknown query parameters are a 422
        docs_url=None,  # our own /docs with Swagger UI shipped in the package (docs_ui.py), no CDN
        redoc_url=None,  # ReDoc loads from a CDN and has no local bundle
    )
    app.state.settings = settings
    from fluxops.api.body_limit import install_body_limit
    from fluxops.api.errors import install_error_handlers
    from fluxops.api.openapi import install_openapi
    from fluxops.api.security import install_security

    install_body_limit(app, settings)  # innermost middleware: added first
    from fluxops.api.export import ExportMiddleware

    app.add_middleware(ExportMiddleware)  # ?format=csv|geojson|parquet on any list answer, inside gzip
    install_error_handlers(app)
    install_security(app, settings)
    for mod in modules:
        app.include_router(mod.router)
    from fluxops.api.metrics import install_metrics

    install_metrics(app)  # before the web mount at "/", which would shadow /metrics
    from fluxops.api.docs_ui import install_docs

    install_docs(app)  # before the web mount at "/", which would shadow /docs
    from fluxops.api.static import mount_web

    mount_web(app)
    install_openapi(app)
    return app
