"""Running the report: the run plan, executing notebooks, the build record, the runner and the landing page."""
