"""Every HTTP read of dandindex: sessions (pooling, scoped auth, retries), `RangeFile`,
NWB-Zarr metadata listings and whole-file downloads. Nothing else in the package opens a
connection; the crawl's API walk uses dandi-cli's client over a session set up here."""
