"""Exercise mode: the course, the grader's verdicts on right, wrong and dishonest submissions, its isolation, its
reports, the instructors' tools, the packaging, and training on a student's ops."""
