# indicators stage: see docs/architecture.md
