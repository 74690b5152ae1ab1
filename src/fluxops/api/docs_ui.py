"""``/docs`` served offline: Swagger UI from files shipped in the package, never from a CDN.

FastAPI's default ``/docs`` page loads Swagger UI's script and stylesheet from cdn.jsdelivr.net, so on
an air-gapped control-room network it is blank. The UI build (``npm run build``) copies the
``swagger-ui-dist`` files into ``fluxops/web/swagger/`` (served by the web mount at ``/``); this page
points at them. Without a built UI the page says how to build it and links the OpenAPI document.
ReDoc has no local bundle here, so ``/redoc`` is not served (``create_app`` passes ``redoc_url=None``).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import HTMLResponse

from fluxops.api.static import WEB_DIR

DOCS_PATH = "/docs"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
SWAGGER_DIR = WEB_DIR / "swagger"
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")


def swagger_assets_present() -> bool:
    return all((SWAGGER_DIR / name).is_file() for name in SWAGGER_FILES)


def install_docs(app: FastAPI) -> None:
    """Add ``/docs`` and its OAuth2 redirect page (create the app with ``docs_url=None``)."""
    openapi_url = app.openapi_url or "/openapi.json"

    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        if not swagger_assets_present():
            return HTMLResponse(
                "<!doctype html><title>API docs</title><p>The Swagger UI files are not built "
                "(run <code>make web</code>). The OpenAPI document is at "
                f'<a href="{root}{openapi_url}">{openapi_url}</a>.</p>',
                status_code=200,
            )
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} — API",
            swagger_js_url=f"{root}/swagger/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/swagger/swagger-ui.css",
            swagger_favicon_url=f"{root}/swagger/favicon-32x32.png",
            oauth2_redirect_url=root + OAUTH2_REDIRECT_PATH,
        )

    async def oauth2_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.add_route(DOCS_PATH, docs, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT_PATH, oauth2_redirect, include_in_schema=False)
