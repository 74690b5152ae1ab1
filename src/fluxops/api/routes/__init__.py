"""One module per domain. Each module exposes ``router`` (an APIRouter) and may expose
``on_startup(app)`` / ``on_shutdown(app)`` hooks; `fluxops.api.app` discovers them, so adding a
domain's routes never edits the app factory. Every route must declare its role with
``Depends(require_role(...))`` — a test walks the route table to prove it."""
