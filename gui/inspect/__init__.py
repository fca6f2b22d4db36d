"""The window's side of looking inside a network (issue 28): the summary dock, the layer health tab, a node's
output for one sample, the learning-rate finder. The numbers come from ``core.inspect`` and the document's
analysis; these modules only show them.
"""
