"""Use cases. Each takes a Session (and Jobs) first and never commits: the caller owns the
transaction through ``Database.unit_of_work()``."""
