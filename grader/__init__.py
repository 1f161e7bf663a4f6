"""The course's grader: everything that decides a score, apart from what a student's kernel imports.

Modules, one step each. The kernel side of the protocol lives in ``course.protocol`` and
``course.grading``: a grading kernel needs nothing from here, and with the course installed as
``make env`` does (editable), nothing here is even visible inside a grading sandbox. Nothing here
holds a reference value either: those stay in ``autograder/``, which no sandbox shows.

- ``grader.spec``             how a hidden check is written (``FunctionCheck``), loading a check file
- ``grader.verify``           hidden-check inputs out, recorded outputs verified; in-process checks
- ``grader.merge``            the merge rule: a submission's answers with the reference's test cells
- ``grader.engine``           one notebook graded: merge, run, verify outside, score (the only engine)
- ``grader.sandbox``          a Jupyter kernel in a bubblewrap sandbox, with limits
- ``grader.timeouts``         time limits from the reference run
- ``grader.autograde``        a folder of submissions: precheck, tasks, resumable results
- ``grader.cluster``          grading on Dask (``LocalCluster`` or a scheduler)
- ``grader.reports``          grades and cells CSVs, feedback pages, the summary
- ``grader.late``             deadlines and the late penalty (``course.toml``, ``timestamp.txt``)
- ``grader.export``           grades for an LMS: Canvas's gradebook import, points per test
- ``grader.gradescope``       Gradescope: the autograder zip, and the results.json its run_autograder writes
- ``grader.similarity``       ``course similarity``: pairs that share answer code (copydetect), HTML report
- ``grader.answers``          ``answers/<id>.md``: the inline questions' model answers, for self-study
- ``grader.install_cell``     the cells that install the course in a student notebook where it is missing
- ``grader.check``            ``course check``: a notebook's tests, per test, for self-study
- ``grader.release``          student notebooks from the sources, never overwriting a student's work
- ``grader.notebooks``        reading, validating and cleaning ``.ipynb`` files
- ``grader.execute``          a notebook top to bottom in a fresh kernel (references, tests)
- ``grader.nbgrader_bridge``  nbgrader's config, API and gradebook
"""
