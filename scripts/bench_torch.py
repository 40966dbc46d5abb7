#!/usr/bin/env python3
"""PyTorch side of `npm run bench`: a JSON-lines server timing the bare CRATE forward pass.

Commands on stdin, one JSON object a line, answers on stdout:
  {"load": CKPT, "preset": NAME}          -> {"ok": true, "parameters": N}
  {"time": BATCH, "runs": R, "warmup": W} -> {"ms": [...]}   (random input, eval mode, no grad)
Uses 2 threads (torch defaults to 1 here) and the project's reference CRATE.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import crate_reference as cr  # noqa: E402

torch.set_num_threads(int(os.environ.get("CRATE_LENS_TORCH_THREADS", "2")))
model = None
config = None


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    cmd = json.loads(line)
    try:
        if "load" in cmd:
            config = cr.preset_config(cmd["preset"])
            model = cr.model_from_state_dict(config, cr.load_checkpoint(cmd["load"]))
            reply({"ok": True, "parameters": sum(p.numel() for p in model.parameters()),
                   "torch": torch.__version__, "threads": torch.get_num_threads()})
        elif "time" in cmd:
            b = int(cmd["time"])
            x = torch.randn(b, config["channels"], config["imageSize"], config["imageSize"])
            times = []
            with torch.no_grad():
                for i in range(int(cmd.get("warmup", 2)) + int(cmd["runs"])):
                    t0 = time.perf_counter()
                    model(x)
                    if i >= int(cmd.get("warmup", 2)):
                        times.append((time.perf_counter() - t0) * 1000)
            reply({"ms": times})
        else:
            reply({"error": "unknown command"})
    except Exception as e:  # the bench reports it and stops
        reply({"error": str(e)})
