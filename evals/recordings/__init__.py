"""Recorded incidents (README: Recordings): folders that replay through the same agent, tools and
guard as a scenario, whether medic recorded them from real backends or an importer built them from a
public dataset."""
