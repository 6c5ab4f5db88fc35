"""Services for learners' own work inside the lessons (practice answers)."""
