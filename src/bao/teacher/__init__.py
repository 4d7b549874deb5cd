"""Scripted teachers that write the SFT warm-start data."""
