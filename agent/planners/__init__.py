"""Planners: the deterministic `rules` planner (and, elsewhere, the OpenAI planner)."""

from agent.planners.rules import RulesPlanner

__all__ = ["RulesPlanner"]
