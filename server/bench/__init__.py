"""`medic bench service`: load and memory of the incident service, measured on this machine."""
