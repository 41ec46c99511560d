"""The MCP door (DESIGN §6): medic's read tools, incidents and guarded proposals for any MCP client.

Streamable HTTP at /mcp on `medic serve` (`http.py`), stdio through `medic mcp` (`stdio.py`), both over
one server (`server.py`). Modules import the official SDK absolutely (`import mcp`), so this package's
name never shadows it.
"""
