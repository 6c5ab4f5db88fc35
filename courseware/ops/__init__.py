"""Running the site: migrations, backup and restore, demo and load seeding, benchmarks and
the load test.
"""
