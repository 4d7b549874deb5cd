"""GrowingCache: the same keys/values as transformers' DynamicCache across appends, selects and regrowth."""

import torch
from transformers import DynamicCache

from bao.policy.kv import GrowingCache


def test_growing_cache_matches_dynamic_cache_over_appends_and_selects():
    g = torch.Generator().manual_seed(2)
    grow, dyn = GrowingCache(), DynamicCache()
    rows = 4
    for step, n in enumerate([7, 1, 1, 40, 1, 90]):  # crosses the 64 and 128 capacity boundaries
        if step == 3:  # drop row 1 between appends
            idx = torch.tensor([0, 2, 3])
            grow.batch_select_indices(idx)
            dyn.batch_select_indices(idx)
            rows = 3
        k, v = torch.randn(rows, 2, n, 5, generator=g), torch.randn(rows, 2, n, 5, generator=g)
        kg, vg = grow.update(k, v, 0)
        kd, vd = dyn.update(k, v, 0)
        torch.testing.assert_close(kg, kd)
        torch.testing.assert_close(vg, vd)
    assert grow.get_seq_length() == dyn.get_seq_length() == 140


def test_growing_cache_gives_the_same_logits_as_dynamic_cache(tiny_model):
    ids = torch.randint(5, 100, (2, 20))
    tiny_model.eval()
    outs = []
    with torch.no_grad():
        for cache in (GrowingCache(), DynamicCache()):
            o = tiny_model(input_ids=ids[:, :12], cache=cache, use_cache=True)
            steps = [o.logits[:, -1]]
            for t in range(12, 20):
                o = tiny_model(input_ids=ids[:, t:t + 1], cache=o.cache, use_cache=True)
                steps.append(o.logits[:, -1])
            outs.append(torch.stack(steps))
        full = tiny_model(input_ids=ids).logits[:, 11:20].transpose(0, 1)
    torch.testing.assert_close(outs[0], outs[1])
    torch.testing.assert_close(outs[0], full, rtol=1e-4, atol=1e-4)  # the cache really carries the context
