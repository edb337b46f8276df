"""The partner zone under /partner: plain JSON endpoints for partner nodes (partner token, no staff session)."""
