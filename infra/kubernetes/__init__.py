"""Kubernetes side of the program: pure manifest builders and the components that apply them."""
