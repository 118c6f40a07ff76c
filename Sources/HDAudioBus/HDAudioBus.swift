// HDAudioBus: filled in by its issue.
