"""The vault's keys: KEK rotation and rewrap, intake-sealing keys and their public route."""
