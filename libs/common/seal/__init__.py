"""Key material at rest sealed under a root key that is never written to the disk in the clear."""
