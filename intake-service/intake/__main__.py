import sys

from intake.service import definition
from services.runtime import main

sys.exit(main(definition))
