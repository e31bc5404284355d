#!/usr/bin/env python3
"""Renders and lints a Helm chart with the real Helm engine, for the tests.

helm-python-sdk (PyPI; import name helm_python) bundles Helm 4 as a library,
so no helm binary and no cluster are needed. Usage:

    helm_chart.py CHART RELEASE NAMESPACE [VALUES_FILE...]

prints one JSON object: {"lint": <helm_python.lint report>, "manifest":
"<every rendered template, as `helm template` prints them, --- between>"}.
Exit 2 when the SDK is missing (with how to install it), 1 when Helm fails.
"""

import json
import sys


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import helm_python
    except ImportError:
        print("helm-python-sdk is not installed: pip install helm-python-sdk "
              "(make deps installs it)", file=sys.stderr)
        return 2
    chart_path, release, namespace, value_files = argv[1], argv[2], argv[3], argv[4:]
    values = {}
    for path in value_files:
        with open(path, encoding="utf-8") as file:
            # Later files win, key by key, as with `helm template -f a -f b`.
            values = merge(values, helm_python.values_from_yaml(file.read()) or {})
    try:
        lint = helm_python.lint(chart_path, values=values, strict=True, namespace=namespace)
        chart = helm_python.Chart.load(chart_path)
        rendered = chart.render(values, name=release, namespace=namespace, is_install=True)
    except helm_python.HelmError as err:
        print(f"helm failed on {chart_path}: {err}", file=sys.stderr)
        return 1
    documents = []
    for path in sorted(rendered):
        text = rendered[path].strip()
        # Templates that render to nothing (a disabled option) are left out,
        # as `helm template` does.
        if text and not path.endswith("NOTES.txt"):
            documents.append(f"# Source: {path}\n{text}\n")
    print(json.dumps({"lint": lint, "manifest": "---\n".join(documents)}))
    return 0


def merge(base, override):
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


if __name__ == "__main__":
    sys.exit(main(sys.argv))
