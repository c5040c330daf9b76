APP = "drifted"
