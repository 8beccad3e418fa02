"""Who may read what: policy rules, policy documents, per-report grants, explanations."""
