"""deepeval, kept offline: its environment set before it loads (evals.deepeval_env), a check that
telemetry really is off, and a model that never answers."""

from __future__ import annotations

from pydantic import BaseModel

from evals.deepeval_env import keep_deepeval_offline


def _check_telemetry_off() -> None:
    from deepeval.telemetry import telemetry_opt_out

    if not telemetry_opt_out():
        raise RuntimeError(
            "deepeval was imported with its telemetry on before evals.metrics could turn it off; "
            "import evals.metrics first"
        )


keep_deepeval_offline()

from deepeval.models import DeepEvalBaseLLM  # noqa: E402 (only once the environment above is set)

# deepeval re-reads its settings when the environment changes; one loaded earlier that still says its
# telemetry is on (a stale settings object) is refused rather than used.
_check_telemetry_off()


class OfflineModel(DeepEvalBaseLLM):
    """A stand-in judge for deepeval metrics that are computed without a model but insist on having one
    (ToolCorrectnessMetric builds an OpenAI client otherwise). Any call to it is a bug: it raises."""

    def __init__(self) -> None:
        super().__init__("offline")

    def load_model(self) -> OfflineModel:
        return self

    def generate(self, prompt: str, schema: type[BaseModel] | None = None) -> str:
        raise RuntimeError("the offline model cannot answer: this metric must not need a judge")

    async def a_generate(self, prompt: str, schema: type[BaseModel] | None = None) -> str:
        return self.generate(prompt, schema)

    def get_model_name(self) -> str:
        return "none (computed, no model)"
