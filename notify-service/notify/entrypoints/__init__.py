"""Where work comes in: the REST API, the event consumer, the dispatcher worker."""
