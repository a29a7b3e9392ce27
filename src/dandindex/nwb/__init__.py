"""Reading what is inside NWB files: the metadata walk, summaries, the crawl phase."""
