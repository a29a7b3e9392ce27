"""Crawling a DANDI API into the index: metadata, then what is inside the files."""

from dandindex.crawl.api import Crawler, CrawlOptions, CrawlStats
from dandindex.crawl.client import resolve_api_url

__all__ = ["CrawlOptions", "CrawlStats", "Crawler", "resolve_api_url"]
