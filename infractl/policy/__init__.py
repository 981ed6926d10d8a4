"""Offline policy check: the real policy pack, driven over its analyzer gRPC protocol."""
