"""The base every other package stands on: settings, database, clock, audit log, activity,
mail, errors and translation.
"""
