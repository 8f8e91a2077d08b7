"""The README's two commands are the real ones: CI runs the test command verbatim."""
import re

from support import REPO


def _commands():
    return re.findall(r"```bash\n(python3 -m venv .+?)\n```", (REPO / "README.md").read_text())


def test_readme_opens_with_the_two_setup_commands_and_ci_runs_the_test_one():
    main, tests = _commands()[:2]
    assert "torch==2.13.0" in main.split("pip install -e")[0] and main.endswith('qa ask "When was SenseTime founded?"')
    assert "torch==2.13.0" in tests.split("pip install -q -e")[0] and tests.endswith("python -m pytest")
    assert tests in (REPO / ".ci" / "run").read_text()
