"""`python -m deadline`: migrate, then serve the API, relay, consumer and timer worker (services.runtime.main)."""

import sys

from deadline.service import definition
from services.runtime import main

sys.exit(main(definition))
