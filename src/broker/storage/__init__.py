"""Stores: one contract (`contract.Store`), one implementation per database."""
