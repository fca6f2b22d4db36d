"""The network model: graph, layer catalog and its entries, shape rules, analysis, blocks, auto-layout."""
