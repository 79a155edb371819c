"""Timings shared by the main window and its parts."""

STATUS_REFRESH_MS = 60_000
FILTER_DEBOUNCE_MS = 200
MESSAGE_MS = 8000
SMALL_TREE_NODES = 300  # up to this many rows the first load expands everything
DRAIN_SLICE_S = 0.012  # UI-thread time spent inserting devices before yielding to the loop
DRAIN_ROWS = 100  # devices inserted under one group at a time
COUNTS_FLUSH_MS = 250  # while devices stream in, the tree's counts repaint this often
DEFAULT_SIZE = (1360, 780)  # the first window: every tree column and the details pane fit
DETAILS_WIDTH = 350  # the details pane's first width: whole timestamps and ids
QUIT_ANYWAY = "Quit anyway"  # the quit confirmation's action (also its headless answer key)
