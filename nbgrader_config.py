"""nbgrader configuration of the course.

Read by ``nbgrader`` commands, by JupyterLab's formgrader and by the ``course`` command (which
overrides a folder or the database where it works elsewhere). Run nbgrader from this folder.

  solutions/<id>/<id>.ipynb   source notebooks (instructor versions)
  notebooks/<id>/<id>.ipynb   student notebooks, generated: `course release`
  grading/                    submissions, autograded copies, feedback, gradebook (git-ignored)
"""

import os

c = get_config()  # provided by traitlets when nbgrader loads this file (see pyproject: F821)
here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "dl-course"
c.CourseDirectory.root = here
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = os.path.join("grading", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("grading", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("grading", "feedback")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "grading", "gradebook.db")

# Training cells can take minutes in the full profile: the per-cell limit is generous and can be
# changed with COURSE_CELL_TIMEOUT (seconds). Set it for both nbgrader's Execute and nbconvert.
cell_timeout = int(os.environ.get("COURSE_CELL_TIMEOUT", "1800"))
c.Execute.timeout = cell_timeout
c.ExecutePreprocessor.timeout = cell_timeout

# nbgrader scores any stderr output of a test cell as a failure. TensorFlow logs, Python warnings
# and progress bars go to stderr, so outputs matching this pattern are removed before scoring.
# Errors are not stream output, so a failing test still fails.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"(^|\n)(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] "  # TensorFlow C++ log lines
    r"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ "  # absl log lines (time of day, or seconds since the epoch)
    r"|WARNING: All log messages before absl"
    r"|(\S+:\d+: )?\w*Warning: "  # Python warnings (path:line: Category: message)
    r"|.*\d+%\|)"  # tqdm progress bars
)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # inherited by the grading kernels

# A student who deletes a test cell gets it back (and graded) instead of a silent zero.
c.OverwriteCells.add_missing_cells = True
