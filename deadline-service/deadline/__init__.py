"""Deadline (thời hạn giải quyết): working-time due times of dossiers and steps."""
