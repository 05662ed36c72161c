"""Policy layer: the YAML policy schema and loader, hot reload, PII detection and redaction."""
