"""The Slack app (DESIGN §5.2): slash commands, one live thread per incident, approval buttons, App Home.

Slack is a view over the incident store and its pending approvals, never a second store: every
command, thread reply and button press turns into the same incident operations the HTTP API uses
(`server.operations`), and every message is rendered from the durable incident.
"""
