"""Pure domain: no I/O, no SQLAlchemy/httpx/dramatiq. Time comes in through a Clock."""
