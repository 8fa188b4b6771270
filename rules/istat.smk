# istat stage: see docs/architecture.md
