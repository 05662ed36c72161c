"""The request ledger: one record per request, never any prompt or answer text."""
