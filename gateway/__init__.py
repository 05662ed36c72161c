"""hybrid-gateway: the OpenAI-compatible HTTP gateway, its pipeline, ledger and CLI."""
