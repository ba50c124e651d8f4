"""ICE's record-level detainer releases: reading them, coding their text, and counting them per agency."""
