"""GitHub side of the program: pure builders of repository settings and files, and the
components that register them with pulumi-github (one module per setting, as safe-settings does)."""
