"""What notify's use cases reach the world through: PostgreSQL, the SMS gateway, SMTP, the console sink, templates."""
