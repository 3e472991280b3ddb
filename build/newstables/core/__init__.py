"""The core layer shared by every stage: metadata model, formats, staging and atomic commit."""
