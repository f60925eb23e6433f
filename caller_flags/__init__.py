"""Marks on a caller's number (repeat, test, abusive) with a reason and an expiry, shown on every
pop of that number; test numbers let reports count test calls apart."""
