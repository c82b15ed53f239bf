"""Triangulation: each trust's safety picture from every source, explicit concern rules, and the
decisions LMNS and regions record about trusts that need a conversation."""
