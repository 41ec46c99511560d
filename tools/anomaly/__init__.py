"""Anomaly models: detection, forecasting and root-cause ranking over metric series."""
