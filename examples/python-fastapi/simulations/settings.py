"""Where the job service's API is, for the app (it submits) and for ``report`` (it reads simulations)."""

import os

#: The durable-jobs API (``npm start`` serves it on :3000).
API_URL = os.environ.get("DURABLE_JOBS_URL", "http://localhost:3000")
#: The tenant's key, when the API has keys configured.
API_KEY = os.environ.get("DURABLE_JOBS_API_KEY") or None
