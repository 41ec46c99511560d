"""Every way in: the HTTP app, the `medic` CLI, and the settings that wire the layers together."""
