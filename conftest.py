"""Collection set-up for the whole tree: the scale-out engine's module is doctested only where its
extra is installed (``pip install -e '.[scale]'``; the README's test command installs it)."""
import importlib.util

collect_ignore = [] if importlib.util.find_spec("qdrant_client") else ["index/stores/qdrant.py"]
