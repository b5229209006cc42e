"""Fine-tuning tasks (data + loss + metrics), one module each, and their registry.

A task module defines one `Task` subclass; `TASKS` below is the registry
the loops, the configs and `albert-tf evaluate --task` read. Adding a task
is one new module here plus one line in `TASKS`.

Imports `training.data`, `training.metrics`, `training.squad` and
albert_tf; never `training.loops`.
"""

from training.tasks.answer_selection import AnswerSelectionTask
from training.tasks.base import Task
from training.tasks.classification import ClassificationTask
from training.tasks.multiple_choice import MultipleChoiceTask
from training.tasks.regression import RegressionTask
from training.tasks.span_qa import SpanQATask
from training.tasks.token_classification import TokenClassificationTask

TASKS = {
    task.name: task
    for task in (ClassificationTask, RegressionTask, TokenClassificationTask, SpanQATask, MultipleChoiceTask, AnswerSelectionTask)
}


def get_task(name, tokenizer, seq_length=128, **options):
    """Instantiates task `name` (a key of `TASKS`).

    Args:
        name: a key of `TASKS`.
        tokenizer: the `albert_tf.text.AlbertTokenizer` that packs the text.
        seq_length: the packed length T.
        **options: the task's own arguments (e.g. `max_answer_length` for
            span_qa).

    Raises:
        ValueError: `name` is not a registered task.

    Example:
    >>> task = get_task("answer_selection", albert_tf.AlbertTokenizer(), seq_length=64)
    >>> type(task).__name__, task.primary_metric, task.seq_length
    ('AnswerSelectionTask', 'mrr', 64)
    >>> sorted(TASKS)
    ['answer_selection', 'classification', 'multiple_choice', 'regression', 'span_qa', 'token_classification']
    """
    if name not in TASKS:
        raise ValueError(f"Unknown task {name!r}; expected one of {sorted(TASKS)}")
    return TASKS[name](tokenizer, seq_length=seq_length, **options)


__all__ = ["TASKS", "Task", "get_task"]
