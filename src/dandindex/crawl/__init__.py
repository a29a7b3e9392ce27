"""Crawling a DANDI API (and, later, NWB files) into the index."""

from dandindex.crawl.api import Crawler, CrawlOptions, CrawlStats
from dandindex.crawl.client import resolve_api_url

__all__ = ["CrawlOptions", "CrawlStats", "Crawler", "resolve_api_url"]
