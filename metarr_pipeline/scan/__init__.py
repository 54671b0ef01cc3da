"""Reading a library: finding movies, identifying them and probing their files."""
