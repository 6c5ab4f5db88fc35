"""HR and auditors: compliance status, cohorts, the learner table, reports, reminders,
transcripts, exports, the audit trail and people import.
"""
