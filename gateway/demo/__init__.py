"""`hybridgw demo`: a realistic mixed workload replayed through the real pipeline."""
