"""The community governance fund: projects, deliberation (meetings, household ballots), money
following the decision, the public summary."""
