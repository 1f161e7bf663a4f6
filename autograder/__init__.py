"""The course's instructor side: hidden checks, references, samples, and the tools that build them.

Run the tools as modules from the repository's root:

    $ python -m autograder.build_references --profile quick          # reference results
    $ python -m autograder.build_samples --check                     # sample submissions
    $ python -m autograder.build_base_models --check                 # 08's base models
    $ python -m autograder.mutation_test 01_knn                      # do the checks kill mutants?
    $ python -m autograder.redteam 01_knn /tmp/corpus                # hostile submissions
    $ python -m autograder.benchmarks.bench_autograde                # grading speed
    $ python -m autograder.benchmarks.bench_conv                     # im2col against tf.nn.conv2d

Modules: ``provenance`` (library versions, device, commit: one format for every artifact),
``solutions`` (a solution notebook's answers as Python), ``equivalent_mutants`` (declared
equivalent mutants). Data, one file per assignment: ``checks/`` (declarative hidden checks,
loaded by path by ``grader.spec.load_checks``), ``references/``, ``samples/`` and
``sample_specs/``, ``alternatives/`` (other correct implementations).
"""
