"""The store: the Chroma collection (the single truth), the lexical index derived from it, and records."""
