-- Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d).
-- One database per service: intake, sharing and alerts never read each other's tables.
-- Each service brings its own schema to head with its migrations on start.
CREATE DATABASE intake;
CREATE DATABASE sharing;
CREATE DATABASE alerts;

-- Only the owner connects; nothing is granted to PUBLIC.
REVOKE ALL ON DATABASE intake FROM PUBLIC;
REVOKE ALL ON DATABASE sharing FROM PUBLIC;
REVOKE ALL ON DATABASE alerts FROM PUBLIC;
