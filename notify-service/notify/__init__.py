"""Notify (thông báo): tells citizens and staff what happened to a dossier, once per notice."""
