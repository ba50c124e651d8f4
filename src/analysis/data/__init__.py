"""Reading and validating the raw tables: CSV files as text cells, cell parsers, the schema, the typed dataset."""
