"""Why does (or doesn't) GRPO move the policy? Four measurements from one starting checkpoint (the SFT start).

    python benchmarks/rl_diagnostics.py --config results/config.resolved.yaml --gym function \\
        --init results/sft/function/enhanced/seed0/ckpt --out results/diagnostics/function.json

1. **Is there anything to learn from?** ``--signal-tasks`` training tasks x ``rl.group_size`` samples at the RL
   temperature: the share of GRPO groups whose rollouts all get the same (rounded) trajectory score under each
   method's shaping (zero signal: every advantage is 0), group success, distinct action sequences per group,
   how episodes end, and the entropy of the policy at the *decision tokens* by turn index: the first token of
   the tool choice (``action`` / ``search`` / ``answer``) and, for answers, the first token of the answered value.
2. **Can it overfit?** 8 training tasks whose sampled success lies in [0.1, 0.9] (chosen from part 1), the same
   8 every step, ``rl.group_size`` rollouts each, the method's GRPO update (``bao.rl.train.rl_step``) until their
   sampled success reaches ``--target`` (or ``--overfit-steps``). If this fails the optimiser / loss / advantage /
   mask path is broken, whatever the budget.
3. **Does it transfer?** The same run's sampled success before and after on ``--transfer-tasks`` *other*
   training tasks and as many test tasks (``--transfer-samples`` each, one sampling seed on both sides), with a
   95% paired-bootstrap interval on the change (:mod:`bao.eval.stats`).
4. **Where does a step's time go?** Per overfit step: generation, env (``step`` calls), PPO update; generated
   tokens per decision (assistant turn).

Prints a readable report and, with ``--out``, writes every number as JSON. Nothing here is a test: it is the
measurement behind the RL recipe choices (docs/results.md and docs/probes.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch  # noqa: E402

from bao.config import load_config  # noqa: E402
from bao.eval.training_reward import compare, rows_of  # noqa: E402
from bao.gyms import GYMS  # noqa: E402
from bao.io import write_json  # noqa: E402
from bao.policy.model import load_policy, load_tokenizer  # noqa: E402
from bao.policy.rollout import GenSettings, rollout  # noqa: E402
from bao.provenance import provenance  # noqa: E402
from bao.rl.advantages import SCORES, rounded_score  # noqa: E402
from bao.rl.shaping import SHAPERS, ShapingParams  # noqa: E402
from bao.rl.train import pad_batch, rl_step, token_logprobs  # noqa: E402
from bao.seeding import torch_generator  # noqa: E402

_CHOICE_KEY, _CONTENT_KEY = '"choice": "', '"content": "'


class TimedEnvs:
    """An env factory whose envs add the seconds spent in ``reset`` / ``step`` to one counter."""

    def __init__(self, factory):
        self.factory, self.seconds = factory, 0.0

    def __call__(self):
        env = self.factory()
        for name in ("reset", "step"):
            fn = getattr(env, name)

            def timed(*args, _fn=fn, **kw):
                t0 = time.perf_counter()
                try:
                    return _fn(*args, **kw)
                finally:
                    self.seconds += time.perf_counter() - t0
            setattr(env, name, timed)
        return env


def play(model, tok, envs, tasks, samples: int, settings: GenSettings, seed, tag):
    batch = [t for t in tasks for _ in range(samples)]
    ks = [k for _ in tasks for k in range(samples)]
    return rollout(model, tok, envs, batch, dataclasses.replace(settings, batch_size=min(len(batch), 64)),
                   torch_generator(seed, "diagnostics", tag), ks)


def decision_entropies(model, tok, results) -> dict[str, dict[int, list[float]]]:
    """Entropy (nats) of the next-token distribution at each turn's first choice-value token and, for answers,
    first content-value token, keyed by ``choice`` / ``answer_value`` and the 0-based turn index."""
    out: dict[str, dict[int, list[float]]] = {"choice": defaultdict(list), "answer_value": defaultdict(list)}
    traces = [r[1] for r in results]
    for lo in range(0, len(traces), 16):
        chunk = results[lo:lo + 16]
        ids, attn, _, turn, _ = pad_batch([r[1] for r in chunk], tok.pad_token_id)
        with torch.no_grad():
            _, ent = token_logprobs(model, ids, attn, with_entropy=True)  # ent[:, i] predicts ids[:, i + 1]
        for b, (ep, tr) in enumerate(chunk):
            for t, trn in enumerate(ep.turns):
                pos = [i for i, v in enumerate(tr.turn_of_token) if v == t and tr.loss_mask[i]]
                if not pos or trn.choice is None:
                    continue
                ends, text = [], ""
                for i in pos:  # char offset where each generated token ends
                    text += tok.decode([tr.ids[i]])
                    ends.append(len(text))

                def token_at(char: int):
                    return next((pos[j] for j, e in enumerate(ends) if e > char), None)

                for key, name in ((_CHOICE_KEY, "choice"), (_CONTENT_KEY, "answer_value")):
                    if name == "answer_value" and trn.choice != "answer":
                        continue
                    at = text.find(key)
                    i = token_at(at + len(key)) if at >= 0 else None
                    if i is not None and i >= 1:
                        out[name][t].append(float(ent[b, i - 1]))
    return out


def group_signal(cfg, episodes, g, methods) -> dict:
    """Zero-signal share per method, group success, distinct action sequences, end reasons."""
    rc = cfg.rl
    groups = defaultdict(list)
    for e in episodes:
        groups[e.task_id].append(e)
    user_choices = g.env_factory(cfg, "train")().user_involved_choices
    out = {"groups": len(groups), "zero_signal_share": {}}
    for name in methods:
        m = cfg.method(name)
        params = ShapingParams(c_rep=rc.c_rep, c_len=rc.c_len, t_pen=g.t_pen(cfg), reweight_w=m.reweight_w,
                               failed_rule=rc.failed_rule, success_threshold=g.success_threshold(cfg))
        shaper, score_fn = SHAPERS.get(m.shaping), SCORES.get(m.score)
        flat = 0
        for eps in groups.values():
            scores = {rounded_score(score_fn(shaper(e.choices, e.rewards, user_choices=user_choices, params=params),
                                             gamma=rc.gamma), rc.score_decimals) for e in eps}
            flat += len(scores) == 1
        out["zero_signal_share"][name] = flat / len(groups)
    succ = [sum(e.total_reward >= g.success_threshold(cfg) - 1e-9 for e in eps) / len(eps) for eps in groups.values()]
    out["group_success"] = {"mean": sum(succ) / len(succ), "min": min(succ), "max": max(succ),
                            "all_fail": sum(s == 0 for s in succ) / len(succ),
                            "all_succeed": sum(s == 1 for s in succ) / len(succ)}
    out["distinct_action_sequences"] = sum(len({tuple(e.choices) for e in eps}) for eps in groups.values()) / len(groups)
    out["end_reasons"] = dict(Counter(e.end_reason for e in episodes))
    out["per_task_success"] = {t: s for t, s in zip(groups, succ)}
    return out


def sampled_change(before, after, samples: int, n_boot: int, seed: int) -> dict:
    """Sampled success before/after on one task set: 95% paired bootstrap over tasks x samples."""
    res = compare({"before": rows_of(before), "after": rows_of(after)}, [("after", "before")], "score", n_boot, seed)
    (b, _, _), (a, _, _) = res["methods"]["before"], res["methods"]["after"]
    d, lo, hi = res["pairs"][("after", "before")]
    return {"before": b, "after": a, "delta": d, "lo": lo, "hi": hi}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="pipeline config YAML (e.g. results/config.resolved.yaml)")
    p.add_argument("--gym", default="function", help="a gym of the config's `gyms:`")
    p.add_argument("--init", required=True, help="starting checkpoint (the gym's SFT checkpoint)")
    p.add_argument("--method", default="bao", help="RL recipe of the overfit run (a key of `methods:`)")
    p.add_argument("--signal-tasks", type=int, default=64, help="training tasks of part 1 (x rl.group_size)")
    p.add_argument("--overfit-tasks", type=int, default=8)
    p.add_argument("--overfit-steps", type=int, default=30, help="at most this many GRPO steps")
    p.add_argument("--select", type=float, nargs=2, default=(0.1, 0.9), metavar=("LO", "HI"),
                   help="overfit tasks: sampled success at the start within [LO, HI]")
    p.add_argument("--target", type=float, default=0.9, help="stop once the overfit tasks' sampled success >= this")
    p.add_argument("--transfer-tasks", type=int, default=64, help="other training tasks, and as many test tasks")
    p.add_argument("--transfer-samples", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-overfit", action="store_true", help="parts 1 and 4 only (no training)")
    p.add_argument("--out", default=None, help="JSON file for every number")
    a = p.parse_args(argv)
    cfg = load_config(a.config)
    rc, g = cfg.rl, GYMS.get(a.gym)
    torch.set_num_threads(rc.threads)
    tok, model = load_tokenizer(a.init), load_policy(a.init, cfg.model)
    envs = TimedEnvs(g.env_factory(cfg, "train"))
    test_envs = g.env_factory(cfg, "test")
    settings = GenSettings(temperature=rc.temperature, max_new_tokens=rc.max_new_tokens,
                           max_episode_tokens=rc.max_episode_tokens, context_length=cfg.model.context_length,
                           show_reward=rc.show_reward)
    train_tasks = g.tasks(cfg, "train")
    n_sig, n_tr = a.signal_tasks, a.transfer_tasks
    if len(train_tasks) < n_sig + n_tr:
        raise SystemExit(f"need {n_sig + n_tr} training tasks, the gym has {len(train_tasks)}")
    signal_tasks, transfer_train = train_tasks[:n_sig], train_tasks[n_sig:n_sig + n_tr]
    transfer_test = g.tasks(cfg, "test")[:n_tr]
    report: dict = {"gym": a.gym, "init": a.init, "method": a.method, "temperature": rc.temperature,
                    "group_size": rc.group_size, "lr": rc.lr}

    # 1. signal at the start
    t0 = time.time()
    sig = play(model, tok, envs, signal_tasks, rc.group_size, settings, a.seed, "signal")
    eps = [r[0] for r in sig]
    methods = [m for m in ("bao", "userrl_grpo", a.method) if m in cfg.methods]
    report["signal"] = group_signal(cfg, eps, g, dict.fromkeys(methods))
    ent = decision_entropies(model, tok, sig)
    report["decision_entropy"] = {k: {t: {"mean": sum(v) / len(v), "n": len(v)} for t, v in sorted(d.items())}
                                  for k, d in ent.items()}
    all_ent = [x for d in ent.values() for v in d.values() for x in v]
    gen_tokens = [t.n_tokens for e in eps for t in e.turns]
    report["signal"]["tokens_per_decision"] = sum(gen_tokens) / max(1, len(gen_tokens))
    report["signal"]["seconds"] = round(time.time() - t0, 1)
    s = report["signal"]
    print(f"== 1. signal at the start: {n_sig} training tasks x {rc.group_size} samples at T={rc.temperature} "
          f"({s['seconds']:.0f} s)")
    print("  zero-signal groups: " + ", ".join(f"{m} {v:.2f}" for m, v in s["zero_signal_share"].items()))
    gs = s["group_success"]
    print(f"  group success mean {gs['mean']:.2f} (min {gs['min']:.2f}, max {gs['max']:.2f}); all fail "
          f"{gs['all_fail']:.2f}, all succeed {gs['all_succeed']:.2f}; distinct action sequences / group "
          f"{s['distinct_action_sequences']:.1f}")
    print(f"  end reasons {s['end_reasons']}; generated tokens per decision {s['tokens_per_decision']:.0f}")
    for k, d in report["decision_entropy"].items():
        print(f"  entropy at {k:12s} by turn: " + "  ".join(f"t{t}:{v['mean']:.3f}(n={v['n']})"
                                                         for t, v in list(d.items())[:8]))
    if all_ent:
        print(f"  decision tokens with entropy > 0.1 nats: {sum(x > 0.1 for x in all_ent) / len(all_ent):.2f}")

    pick = []
    if not a.skip_overfit:
        per_task = s["per_task_success"]
        lo, hi = a.select
        pick = [t for t in signal_tasks if lo <= per_task[t.task_id] <= hi][:a.overfit_tasks]
        report["overfit"] = {"tasks": [t.task_id for t in pick], "start_success": [per_task[t.task_id] for t in pick]}
        if len(pick) < a.overfit_tasks:
            print(f"  only {len(pick)} of {n_sig} tasks with sampled success in [{lo}, {hi}]"
                  + ("; overfitting on those" if pick else ": nothing to overfit (more --signal-tasks?)"))
    if not a.skip_overfit and pick:
        before_tr = [r[0] for r in play(model, tok, envs, transfer_train, a.transfer_samples,
                                        settings, a.seed, "transfer-train")]
        before_te = [r[0] for r in play(model, tok, test_envs, transfer_test, a.transfer_samples, settings, a.seed,
                                        "transfer-test")]
        method = cfg.method(a.method)
        opt = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=rc.lr,
                                weight_decay=rc.weight_decay, betas=(0.9, 0.95))
        user_choices = envs().user_involved_choices
        mb = rc.num_minibatches
        while (len(pick) * rc.group_size) % mb:
            mb -= 1
        step_cfg = dataclasses.replace(cfg, rl=dataclasses.replace(rc, num_minibatches=mb))
        curve = []
        print(f"== 2. overfit: {len(pick)} fixed training tasks x {rc.group_size}, {a.method}, lr {rc.lr:g}")
        for step in range(a.overfit_steps):
            envs.seconds, t0 = 0.0, time.time()
            res = rollout(model, tok, envs, [t for t in pick for _ in range(rc.group_size)],
                          dataclasses.replace(settings, batch_size=len(pick) * rc.group_size),
                          torch_generator(a.seed, "overfit", step), [k for _ in pick for k in range(rc.group_size)])
            t_gen, t_env = time.time() - t0, envs.seconds
            e_, tr_ = [r[0] for r in res], [r[1] for r in res]
            succ = sum(e.total_reward >= g.success_threshold(cfg) - 1e-9 for e in e_) / len(e_)
            t1 = time.time()
            st = rl_step(model, opt, tok, e_, tr_, method, step_cfg, torch_generator(a.seed, "overfit-ppo", step),
                         user_choices, t_pen=g.t_pen(cfg), success_threshold=g.success_threshold(cfg))
            t_upd = time.time() - t1
            row = {"step": step, "success": succ, "entropy": st["train/entropy"], "clip_frac": st["train/clip_frac"],
                   "approx_kl": st["train/approx_kl"], "time_generate_s": round(t_gen - t_env, 2),
                   "time_env_s": round(t_env, 2), "time_update_s": round(t_upd, 2),
                   "tokens_per_decision": sum(t.n_tokens for e in e_ for t in e.turns) / max(1, sum(len(e.turns) for e in e_))}
            curve.append(row)
            print(f"  step {step:2d}: sampled success {succ:.2f}  entropy {row['entropy']:.3f}  clip "
                  f"{row['clip_frac']:.3f}  kl {row['approx_kl']:.1e}  (gen {row['time_generate_s']:.1f} s, env "
                  f"{row['time_env_s']:.2f} s, update {row['time_update_s']:.1f} s)", flush=True)
            if succ >= a.target:
                break
        report["overfit"]["curve"] = curve
        report["overfit"]["reached"] = max(r["success"] for r in curve)
        report["overfit"]["reached_target"] = report["overfit"]["reached"] >= a.target
        print(f"  reached {report['overfit']['reached']:.2f} (target {a.target}) in {len(curve)} steps")

        # 3. transfer
        model.eval()
        after_tr = [r[0] for r in play(model, tok, envs, transfer_train, a.transfer_samples, settings, a.seed,
                                       "transfer-train")]
        after_te = [r[0] for r in play(model, tok, test_envs, transfer_test, a.transfer_samples, settings, a.seed,
                                       "transfer-test")]
        report["transfer"] = {
            "other_train": sampled_change(before_tr, after_tr, a.transfer_samples, cfg.eval.n_boot, cfg.seed),
            "test": sampled_change(before_te, after_te, a.transfer_samples, cfg.eval.n_boot, cfg.seed)}
        print(f"== 3. transfer ({n_tr} tasks x {a.transfer_samples} samples each, 95% paired bootstrap)")
        for k, v in report["transfer"].items():
            print(f"  {k:12s} sampled success {v['before']:.3f} -> {v['after']:.3f}: {v['delta']:+.3f} "
                  f"[{v['lo']:+.3f}, {v['hi']:+.3f}]")

        # 4. step time
        n = len(curve)
        split = {k: sum(r[k] for r in curve) / n for k in ("time_generate_s", "time_env_s", "time_update_s")}
        total = sum(split.values())
        report["step_time"] = {**split, "share": {k: v / total for k, v in split.items()},
                               "tokens_per_decision": sum(r["tokens_per_decision"] for r in curve) / n}
        print(f"== 4. step time ({len(pick) * rc.group_size} rollouts a step, mean of {n} steps): "
              + ", ".join(f"{k[5:-2]} {v:.1f} s ({v / total:.0%})" for k, v in split.items())
              + f"; {report['step_time']['tokens_per_decision']:.0f} generated tokens per decision")
    report["signal"].pop("per_task_success")
    report["provenance"] = provenance(cfg, seed=a.seed)
    if a.out:
        write_json(a.out, report)


if __name__ == "__main__":
    main()
