"""HTTP API (FastAPI). Thin: parse, authorize, call a domain service, serialize."""
