"""Predicted OpenSSF Scorecard results of governed repositories, computed before apply.

Each check follows the named function of Scorecard's source at the version in `source.py`;
the Go code is re-expressed here, not copied.
"""
