"""What a student's kernel imports: data, gradient checks, plots, asserts, and the ``course`` command.

Modules, one purpose each (import what you need; importing ``course`` does no work):

- ``course.config``    profiles (``COURSE_PROFILE``)
- ``course.paths``     where the course's files are (the one owner of repository paths)
- ``course.data``      Fashion-MNIST (offline-first, checksummed), digits, sample photos, splits
- ``course.gradcheck`` numeric gradients and relative errors
- ``course.vis``       image grids, curves and matrices
- ``course.asserts``   comparisons whose failure messages teach
- ``course.grading``   what test cells import: the asserts and ``run_hidden_check``
- ``course.protocol``  the kernel <-> grader protocol: environment names, mimetype, plain data
- ``course.results``   recording a notebook's results, reading the reference results
- ``course.models``    the shipped base models (checksummed)
- ``course.timing``    timing helpers for speed comparisons
- ``course.tfquiet``   TensorFlow without stderr noise
- ``course.cli``       the ``course`` command (its grading commands run the ``grader`` package)

Nothing here answers a graded cell, and nothing here decides a grade (that is ``grader``).
"""

__version__ = "0.1.0"

#: the course's public repository: where a notebook outside it (Colab, a laptop) installs the package
#: from, and downloads the shipped models from, at this release's tag
REPOSITORY = "https://github.com/dl-course/dl-course"
RELEASE_TAG = f"v{__version__}"
