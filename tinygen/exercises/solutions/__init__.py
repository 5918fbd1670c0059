"""Reference solutions, one file per exercise. Each is also the template of the student's file: ``start``
copies it with the lines between ``# solution: begin`` and ``# solution: end`` replaced by a stub."""
