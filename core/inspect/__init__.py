"""Looking inside a network: layer health while it trains, a node's output for one sample, a learning-rate range
test, why it predicted what it did, and what its last hidden layer learned.

Each module is one view and imports torch (and, for attributions, Captum; for projections, scikit-learn) itself;
nothing here imports Qt, so the CLI and the window share it. docs/CONTRACTS.md ("Looking inside") lists the API.
"""
