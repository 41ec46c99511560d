"""Which model judges reports (evals.metrics.judge), as the settings name it; no deepeval here."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

NOT_CONFIGURED = "no judge model configured (MEDIC_EVAL_JUDGE_MODEL, MEDIC_EVAL_JUDGE_BASE_URL)"


class JudgeConfig(BaseModel):
    """An OpenAI-compatible chat endpoint to judge reports with."""

    model_config = ConfigDict(frozen=True)

    model: str
    base_url: str = Field(description="e.g. http://127.0.0.1:8000/v1")
    api_key: SecretStr
    timeout_s: float = Field(60.0, gt=0, le=600)


def configured_judge(
    model: str | None, base_url: str | None, api_key: SecretStr | None
) -> JudgeConfig | None:
    """The judge the settings name (MEDIC_EVAL_JUDGE_MODEL, …_BASE_URL, …_API_KEY), or None. A local
    endpoint may need no key: the client then sends a placeholder."""
    if model is None or base_url is None:
        return None
    return JudgeConfig(model=model, base_url=base_url, api_key=api_key or SecretStr("none"))
