"""Scoring one case with deepeval metrics, offline.

Importing this package sets deepeval's environment (evals.deepeval_env: telemetry, update check and
working-directory files off) before any of its modules can import deepeval. The verdict logic and the
result models (`result`, `root_cause`, `remediation`, `safety`, `efficiency`, `calibration`,
`judge_config`) import no deepeval, so reading and summarising scores stays cheap; the deepeval side
(`case`, `computed`, `tools`, `judge`, `suite`) is imported when a case is measured.
"""

from evals.deepeval_env import keep_deepeval_offline

keep_deepeval_offline()
