// HDAController: filled in by its issue.
