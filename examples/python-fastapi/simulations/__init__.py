"""Simulations on durable-jobs: a FastAPI app (``simulations.app``) and its job types (``simulations.jobs``)."""
