print("steward-gen: not yet")
