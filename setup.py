"""Package discovery: every package under netdsl/, plus the top-level grammars/ shipped as netdsl.grammars.

pyproject.toml holds everything else; a package directory needs no listing anywhere.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["netdsl", "netdsl.*"], exclude=["*.__pycache__"]), "netdsl.grammars"],
    package_dir={"netdsl.grammars": "grammars"},
)
