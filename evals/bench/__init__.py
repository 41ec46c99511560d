"""Benchmarks: NAB anomaly detection and Sock Shop root-cause analysis, with peers run side by side."""
