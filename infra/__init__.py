"""The tbcoin-platform Pulumi program: typed config in, resources out."""
