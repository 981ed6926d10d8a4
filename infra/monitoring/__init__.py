"""Monitoring, kept together per service like the kube-prometheus mixins: recording rules, alerts
(with the promtool tests that prove them), dashboards, and the stack that runs them."""
