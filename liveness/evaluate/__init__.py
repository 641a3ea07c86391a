"""ISO/IEC 30107-3 evaluation: metrics, scorers, reports (`liveness evaluate`)."""
