"""Kubernetes primitives every builder shares (the Kubernetes builders and monitoring alike): the
labels objects carry, the shape of a NetworkPolicy, and how a manifest is registered."""
