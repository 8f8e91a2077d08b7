import os
import signal
import sys

try:
    from qa.cli import main
except KeyboardInterrupt:   # Ctrl-C while the command line is still being imported, before main() handles it
    print("interrupted", file=sys.stderr)
    sys.stderr.flush()
    os._exit(130)           # as main() leaves after an interrupt (see qa.cli.main)

if __name__ == "__main__":
    code = main()
    # The command's work and output are done: a Ctrl-C now, while the interpreter shuts down, would kill
    # the process by the signal (status -2) after a complete answer. Now that `qa ask` starts in about 1 s,
    # a Ctrl-C lands in that window more often.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
