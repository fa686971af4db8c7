import sys

from notify.service import definition
from services.runtime import main

sys.exit(main(definition))
