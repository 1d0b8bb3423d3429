"""The widgets the app's screens are built from."""
