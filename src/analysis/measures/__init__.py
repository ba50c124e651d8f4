"""Pure computations on validated tables: rates and growth with exact intervals, periods, series, claims."""
