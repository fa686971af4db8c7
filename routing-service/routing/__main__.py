import sys

from routing.service import definition
from services.runtime import main

sys.exit(main(definition))
