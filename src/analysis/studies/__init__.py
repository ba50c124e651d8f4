"""The studies the notebooks narrate: one module per notebook, each with the same shape.

A study is built from a validated dataset and the notebook's parameters by its
module's ``study()`` function, which the notebook calls. It has a ``title``, a
``headline`` (one or two sentences built from the data), its ``tables()`` for
readers, its ``charts()`` (figures drawn and rendered once), its numbers as ``to_json()``, and ``save()`` to
write the figures and the run's summary (:data:`analysis.paths.RUN_DESCRIPTION`),
which is all the report's landing page knows of a run.
"""
