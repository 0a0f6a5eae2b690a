"""Training: the loop, its hooks, checkpoints, schedules, early stopping, augmentation and run directories.

Importing this package is cheap: each module loads its own dependencies (numpy among them).
"""
