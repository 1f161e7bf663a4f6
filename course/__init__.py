"""Helpers for the deep-learning course notebooks.

Modules, one purpose each (import what you need; importing ``course`` does no work):

- ``course.config``    profiles (``COURSE_PROFILE``) and the course's folders
- ``course.data``      Fashion-MNIST (offline-first, checksummed), digits, sample photos, splits
- ``course.gradcheck`` numeric gradients and relative errors
- ``course.vis``       image grids, curves and matrices
- ``course.grading``   comparisons with teaching messages, and the hidden-check runner
- ``course.results``   recording a notebook's results, reading the reference results
- ``course.notebooks`` reading, cleaning and validating ``.ipynb`` files
- ``course.release``   generating the student notebooks with nbgrader
- ``course.autograde`` grading a folder of submissions with nbgrader
- ``course.cli``       the ``course`` command

Nothing here answers a graded cell.
"""

__version__ = "0.1.0"
