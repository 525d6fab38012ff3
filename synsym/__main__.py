import sys

from synsym.cli import main

sys.exit(main())
