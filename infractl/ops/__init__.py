"""Day-to-day operations: PR preview reports, drift detection, metric-gated promotion."""
