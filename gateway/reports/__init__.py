"""Reports over the ledger: shared aggregation math, report assembly and output formats."""
