"""Policy model and evaluation, the guard every action passes, and the audit log."""
