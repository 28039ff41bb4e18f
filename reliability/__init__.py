"""Reliability campaigns (issue 16): soak, fuzz, kill and DDS-fault runs against the real commands and node.

Run them with ``make reliability`` (or ``python -m reliability``); RELIABILITY.md has the figures. Each campaign is
bounded in trials and time, stops by itself and uses only this machine. Nothing here is imported by the runtime.
"""
