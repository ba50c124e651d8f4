"""Running the report: the run plan, executing notebooks, the build record, the runner and the landing page.

Every process that reads or writes notebooks imports nbformat, which imports
jsonschema, which eagerly builds dozens of parsers of the optional
``rfc3987_syntax`` package (1.5 to 2.5 s a process; jsonschema issue 1428).
They check only the ``iri`` and ``iri-reference`` string formats, which the
notebook schema does not use, so the pipeline marks that package as absent
before anything imports jsonschema; jsonschema then skips those two formats.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
