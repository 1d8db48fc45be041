"""The demo community of INTERFACE.md (`flask market demo`): its places, people and a few evenings
of trade. Not used by the product itself."""
