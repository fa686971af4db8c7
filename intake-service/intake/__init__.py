"""Intake (tiếp nhận hồ sơ): receives dossiers at the counter and online, issues the receipt."""
