# themes stage: see docs/architecture.md
