"""The Sock Shop root-cause benchmark: medic's ranking and BARO on the same 50 fault cases."""
