"""The application image, built and pushed with pulumi-docker."""
