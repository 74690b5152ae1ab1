"""Roles, API keys (stored hashed), token validation and the audit log's shape."""
