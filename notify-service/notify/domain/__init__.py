"""Notify's rules, pure: who is told what on which channel, SMS text, quiet hours, rate spacing."""
