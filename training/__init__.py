"""Offline tooling: labelling, dataset building, training and evaluation of the shipped models.

Not part of the runtime wheel and never imported by the request path; it needs the `train` extra.
"""
