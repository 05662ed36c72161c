"""Offline tooling for the router's classifier: labelling, dataset building, training, evaluation.

Nothing here is imported by the request path; it needs the `train` extra (scikit-learn,
skl2onnx, onnx, faker, matplotlib) and, for labelling, llama-cpp-python.
"""
