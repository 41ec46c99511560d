"""Logs as ranking evidence: templates mined from pod logs, turned into per-service time series."""
