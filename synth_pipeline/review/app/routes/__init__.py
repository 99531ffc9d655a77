"""The app's routes, one module per area; each route names the roles it admits."""
