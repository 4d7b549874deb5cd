"""RL probe variants by monkeypatching bao.rl.train (no repo change): --freeze-emb, --seq-mean."""
import sys
import torch
import bao.rl.train as T

args = sys.argv[1:]
variant = args.pop(0)
if variant == "freeze-emb":
    _load = T.load_policy
    def load_policy(*a, **k):
        m = _load(*a, **k)
        m.get_input_embeddings().weight.requires_grad_(False)
        return m
    T.load_policy = load_policy
elif variant == "seq-mean":
    _bta = T.batch_token_advantages
    def batch_token_advantages(z, credits, turn, lmask):
        adv = _bta(z, credits, turn, lmask)
        n = lmask.sum(1, keepdim=True)
        mean_n = n[n > 0].mean()
        return adv * torch.where(n > 0, mean_n / n.clamp_min(1), torch.zeros_like(n))
    T.batch_token_advantages = batch_token_advantages
else:
    raise SystemExit(variant)
T.main(args)
