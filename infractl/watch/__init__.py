"""`infractl check --watch`: the inner loop kept running between saves."""
