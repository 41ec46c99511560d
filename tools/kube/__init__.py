"""Kubernetes reads: the KubeReader Protocol, its implementation on the official client, and the tools."""
