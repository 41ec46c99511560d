"""`medic watch`: the detection loop ahead of the pager (streaming anomalies, saturation forecasts).

Layout: `config` (what the loop is told), `signals` (one PromQL query per signal for every service),
`codec` and `store` (a detector's state as JSON, and where a shard's states are kept), `persistence`
(the k-of-n rule that turns scores into an incident), `saturation` (time to a limit), `loop`
(`WatchLoop.run_step`), `intake` (`open_detected`: the Alertmanager intake). Nothing here imports
`evals`; the scenario replay lives in `server.watch.replay`, reached only from the CLI.
"""
