"""Engine-free synthesis: run the real program under Pulumi's mocks and capture what it declares."""
