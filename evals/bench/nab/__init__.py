"""The Numenta Anomaly Benchmark (v1.1): corpus loading, the exact NAB scorer, peers and the runner."""
