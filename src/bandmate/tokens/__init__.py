"""Semantic tokenizers, acoustic codecs, the token id layout and token shards."""
