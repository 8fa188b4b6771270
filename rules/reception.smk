# reception stage: see docs/architecture.md
