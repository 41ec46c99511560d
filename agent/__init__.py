"""The investigating agent: graph, state, planners, diagnosis, report."""
