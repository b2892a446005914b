"""Services: one module per stage, plain functions that the CLI, the DAGs and the web app call.

Each service opens and closes what it needs (a warehouse session, an application-database
transaction) and calls the library below it; callers above hold only wiring.
"""
