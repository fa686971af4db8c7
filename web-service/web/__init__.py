"""The web console: server-rendered pages for counter officers, agencies' officers, leaders and
citizens, over the four services' REST APIs. It owns no dossier data."""
