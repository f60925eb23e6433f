"""What an agent records about a contact: the Ministry's taxonomy, outcome validation and saving,
and contacts that did not come in by phone (walk-in, LINE, social media, ESS Help Me, referrals)."""
