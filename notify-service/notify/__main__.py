"""`python -m notify`: migrate and serve (API, consumer, dispatcher, outbox relay); see `services.runtime.main`."""

import sys

from notify.service import definition
from services.runtime import main

sys.exit(main(definition))
