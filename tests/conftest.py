import torch as th

# Tests run on 2 cores next to worker processes: one torch thread keeps small MLPs fast.
th.set_num_threads(1)
