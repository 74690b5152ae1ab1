"""The operator's assistant: typed tools over the domain services, two brains (an OpenAI-compatible
chat-completions endpoint, or an offline question parser), document search and evaluation.

Domain code: it talks to services through the ports in `fluxops.assistant.ports`; the API layer and
the CLI build a `fluxops.assistant.tools.ToolContext` with the application's services.
"""
