"""Enrolment codes: a device registers its own key with a one-time code, an admin confirms."""
