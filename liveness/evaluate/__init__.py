"""ISO/IEC 30107-3 metrics, score files and reports."""
