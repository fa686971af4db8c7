"""Notify's use cases: one function per event, command or dispatcher round."""
