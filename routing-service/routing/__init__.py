"""Routing (liên thông): hands each step of an interlinked procedure to its agency, in order."""
