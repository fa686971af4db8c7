import sys

from deadline.service import definition
from services.runtime import main

sys.exit(main(definition))
