"""The app's side of the repair jobs (``services.runtime.repair.target.LocalTarget``)."""
