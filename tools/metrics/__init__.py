"""Prometheus: the MetricsBackend Protocol, its prometheus-api-client implementation, and the metric tools."""
