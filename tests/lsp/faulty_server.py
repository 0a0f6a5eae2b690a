"""The real server with faults planted where a compiler bug would surface: hover raises, and so does
the analysis of any text containing BOOM. Started by test_robustness.py."""

from netdsl.lsp import hover, server
from netdsl.lsp.analysis import Analysis


def broken_hover(*args, **kwargs):
    raise RuntimeError("planted hover fault")


class BrokenAnalysis(Analysis):
    def __init__(self, text: str, *args, **kwargs):
        if "BOOM" in text:
            raise ValueError("planted analysis fault")
        super().__init__(text, *args, **kwargs)


hover.hover = broken_hover
server.Analysis = BrokenAnalysis
server.serve()
