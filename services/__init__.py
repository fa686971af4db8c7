"""MotCua shared kernel: what two or more of the four services are built on.

Settings, database engine and sessions, the event envelope and schemas, the transactional
outbox and its Kafka relay, the idempotent consumer with its inbox and dead letters, the web
app factory with problem+json errors, logging, and the working-time calendar.
"""
