import sys

from dialplans.cli import main

sys.exit(main())
