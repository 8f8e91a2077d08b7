import os
import sys

try:
    from qa.cli import main
except KeyboardInterrupt:   # Ctrl-C while the command line is still being imported, before main() handles it
    print("interrupted", file=sys.stderr)
    sys.stderr.flush()
    os._exit(130)           # as main() leaves after an interrupt (see qa.cli.main)

if __name__ == "__main__":
    sys.exit(main())
