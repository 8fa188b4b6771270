"""INSIEna: territorial profile of the migrant reception system of an Italian province.

Researchers load processed tables with `insiena.load("population")`; the pipeline stages live in
`insiena.retrieve`, `insiena.ingest`, `insiena.indicators`, `insiena.figures` and `insiena.report`.
"""

__version__ = "0.1.0"
__all__ = ["load", "list_tables"]


def load(name, province=None, root=None, **filters):
    """Read a processed table (see insiena.data.load); imported lazily to keep `import insiena` light."""
    from insiena.data import load as _load

    return _load(name, province=province, root=root, **filters)


def list_tables(province=None, root=None):
    from insiena.data import list_tables as _list

    return _list(province=province, root=root)
