"""The sandbox: real Prometheus, the Kubernetes API emulator and trace files for one scenario."""
