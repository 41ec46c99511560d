"""Scenario format, world simulator, sandbox, scoring, runner and benchmarks."""
