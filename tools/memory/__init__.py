"""A memory of past incidents: their signatures, verdicts and what responders said about them."""
