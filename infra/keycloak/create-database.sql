-- Keycloak keeps its data in a database of its own, beside the services' schemas.
CREATE DATABASE keycloak;
