"""Customer satisfaction: the requester of a resolved or closed ticket is asked once to rate the
help from 1 to 5, by mail and on the portal (docs/architecture.md, "Satisfaction")."""
