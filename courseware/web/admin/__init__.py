"""The administrator's pages: user accounts and people import."""
