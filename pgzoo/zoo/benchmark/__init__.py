"""
``pgzoo benchmark`` and its report: train every (algo, env, seed) with the tuned hyperparameters, keep one record
per run, and turn the records into ``benchmark.md``, its plots and the README's tables.

One job per module, imports going down this list only:

- :mod:`~pgzoo.zoo.benchmark.rows` (and ``rows.yml``): the required and optional rows and the RL Zoo's results;
- :mod:`~pgzoo.zoo.benchmark.record`: :class:`~pgzoo.zoo.benchmark.record.RunRecord`, its JSON file and schema;
- :mod:`~pgzoo.zoo.benchmark.plan`: :class:`~pgzoo.zoo.benchmark.plan.RunSpec`, ``plan_runs``, the entry digest;
- :mod:`~pgzoo.zoo.benchmark.agents`: the agent a run keeps beside its record, and the agents collection;
- :mod:`~pgzoo.zoo.benchmark.run`: one run (``run_one``) and its learning curve;
- :mod:`~pgzoo.zoo.benchmark.executors`: sequential, process pool and Ray executors;
- :mod:`~pgzoo.zoo.benchmark.driver`: skipping finished runs, writing each record as its run ends;
- :mod:`~pgzoo.zoo.benchmark.scoring`, :mod:`~pgzoo.zoo.benchmark.table`, :mod:`~pgzoo.zoo.benchmark.plots`,
  :mod:`~pgzoo.zoo.benchmark.readme`, :mod:`~pgzoo.zoo.benchmark.report`: rows and verdicts, Markdown tables,
  learning-curve plots, the README's tables, the report page;
- :mod:`~pgzoo.zoo.benchmark.command`: ``main``, what the CLI (:mod:`pgzoo.zoo.cli`, which holds the parser) calls.

This package imports nothing from its modules, so that importing one of them stays as cheap as that module.
"""
