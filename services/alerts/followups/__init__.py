"""Follow-ups: a partner's later report on a case reaches the alerts of its original."""
