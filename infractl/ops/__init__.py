"""Day-to-day operations: PR preview reports, drift detection, steering Argo Rollouts."""
