"""Reading the world (metrics, traces, Kubernetes, logs, anomaly models) and the one action executor."""
