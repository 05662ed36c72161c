"""The shared kernel: what every package of the gateway speaks.

Wire types (the OpenAI-shaped request, response and chunk), the one error tree, the seams'
Protocols, the ledger entry and report rows, and token-estimate helpers. It imports nothing else
of ours, and nothing heavy.
"""
