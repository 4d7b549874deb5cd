"""Figures: one function per paper figure, data frame in, matplotlib figure out."""
