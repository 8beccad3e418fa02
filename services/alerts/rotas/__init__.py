"""Rotas: who of an organisation is on duty when, its API and its calendar feed."""
