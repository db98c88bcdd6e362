"""The search index status page for admins: each server's indexer and how far behind it is."""
