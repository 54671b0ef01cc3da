"""Publishing: writing artwork, actor images and the NFO into the library folder."""
