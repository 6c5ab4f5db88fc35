"""People and their accounts: users, roles, passwords, privacy (export and anonymising)."""
