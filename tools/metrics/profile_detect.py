"""The metric profile of an investigation: pinned by the settings, else detected from the metric names
Prometheus holds in the hour before as_of (what prom_list_metrics lists), once per investigation."""

from __future__ import annotations

from datetime import timedelta

from tools.context import ToolContext
from tools.metrics.profiles import ActiveProfile, Detection, detect_profile, profile_named
from tools.metrics.query import metrics_backend

# Prometheus answers label values from its index, per block (2 h), so "present in the hour before
# as_of" is as exact as the blocks are; the price is one cheap request, not a scan of the samples.
# No `match[]`: the names alone are enough, and a matcher would be read as a selection of series
# (e.g. by a recorder, which would then keep every request series of the cluster).
DETECTION_LOOKBACK = timedelta(hours=1)


def active_profile(ctx: ToolContext) -> ActiveProfile:
    """The profile the metric tools use at `ctx.as_of`, with its templates."""
    config = ctx.config
    if config.metric_profile is not None:
        profile = profile_named(config.metric_profile)
        why = "pinned by the metric_profile setting (MEDIC_METRIC_PROFILE)"
        return ActiveProfile(profile, config.promql, "pinned", why)
    backend = metrics_backend(ctx)

    def detect() -> Detection:
        names = backend.label_values("__name__", ctx.as_of - DETECTION_LOOKBACK, ctx.as_of)
        return detect_profile(set(names))

    found = ctx.profiles.get(backend, ctx.as_of, detect)
    return ActiveProfile(
        profile_named(found.name), config.templates_for(found.name), found.how, found.why, found.scores
    )
