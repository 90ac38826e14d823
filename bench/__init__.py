"""The benchmark harness (`make bench`): the ledger against its engines' ceiling, in one run.

Not part of the installed package. `python -m bench --quick` is a smoke run of under a minute.
"""
