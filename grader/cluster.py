"""Grading many submissions at once on Dask: a ``LocalCluster`` of single-threaded workers, or an
existing scheduler. Tasks and results are plain data (``grader.autograde.grade_submission``)."""


def grade_on_dask(function, tasks: list, done, workers: int, scheduler: str | None) -> None:
    """Runs ``function(task)`` for every task on Dask and calls ``done(result)`` as each one ends.

    A task whose worker dies (``KilledWorker``) or fails gets an error result; the others go on.
    The longest tasks (``expected_seconds``: the reference run's time) start first, so that a long one
    does not run alone at the end while the other workers wait.
    """
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=0,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    try:
        futures = {client.submit(function, t, key=f"grade-{t['student']}-{t['assignment']}-{t['digest'][:12]}",
                                 pure=False, priority=round(t.get("expected_seconds", 0.0))): t for t in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker died (KilledWorker) or the task failed
                result = {"student": task["student"], "assignment": task["assignment"], "status": "error",
                          "message": f"the grading worker failed: {type(exc).__name__}: {exc}", "score": 0.0,
                          "max_score": 0.0, "cells": [], "notes": [], "digest": "", "seconds": 0.0}
            done(result)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
