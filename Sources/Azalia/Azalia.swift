// Azalia: filled in by its issue.
