#!/usr/bin/env python3
"""Tests of bench/capacity, the HPA capacity model (docs/capacity.md).

Each test runs the script as a user would (--json for the summary, --csv for every 15 s HPA
sync) and checks a property that a wrong model breaks: replica bounds, the behavior policies'
rate limits and stabilization window, a stable queue at a sustainable load, a growing one at
overload, the cost comparison, and that the HPA numbers follow the rendered manifests.
The policy checks compute the limits here from the manifest, not from the script's code.

    python3 tests/bench/capacity_test.py      (ctest -R bench.capacity)
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench/capacity"
OVERLAY = ROOT / "deploy/k8s/overlays/autoscale-prometheus"
RATE = 28.7  # README face_swapper tasks/s per worker, the script's default


def run(*args, expect_rc=0):
    proc = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True, timeout=60)
    if proc.returncode != expect_rc:
        raise AssertionError(f"bench/capacity {' '.join(map(str, args))}: rc {proc.returncode}, "
                             f"expected {expect_rc}\n{proc.stderr}{proc.stdout[-2000:]}")
    return proc


def run_json(*args):
    return json.loads(run(*args, "--json").stdout)


def run_both(*args):
    """-> (the --json summary, the --csv rows) of one run."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "rows.csv"
        summary = json.loads(run(*args, "--json", "--csv", path).stdout)
        rows = list(csv.DictReader(io.StringIO(path.read_text())))
    for r in rows:
        for k in ("t_s", "rps", "queue", "oldest_wait_s", "rejected_total"):
            r[k] = float(r[k])
        for k in ("workers", "workers_ready", "gateways", "gateways_ready"):
            r[k] = int(r[k])
        r["worker_recommendation"] = (int(r["worker_recommendation"])
                                      if r["worker_recommendation"] else None)
    return summary, rows


def rendered_hpas():
    """The HPAs as kubectl renders them, read here independently of the script."""
    import yaml
    out = subprocess.run(["kubectl", "kustomize", str(OVERLAY)], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return {d["metadata"]["name"]: d["spec"] for d in yaml.safe_load_all(out)
            if d and d.get("kind") == "HorizontalPodAutoscaler"}


class CapacityModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Not a skip: a model that cannot read the manifests is the failure this guards.
        if not shutil.which("kubectl"):
            raise RuntimeError("kubectl is not on PATH: scripts/install-deps.sh installs it")
        cls.tmp = Path(tempfile.mkdtemp(prefix="capacity-test-"))
        cls.rendered = cls.tmp / "rendered.yaml"
        cls.rendered.write_text(subprocess.run(["kubectl", "kustomize", str(OVERLAY)],
                                               capture_output=True, text=True, check=True,
                                               timeout=60).stdout)
        # Most runs read this one render: the same manifests, without a kubectl per run.
        cls.base = ["--rendered", cls.rendered]
        cls.default, cls.ramp_rows = run_both(*cls.base)
        cls.burst, cls.burst_rows = run_both(*cls.base, "--curve", "burst")
        cls.worker_spec = rendered_hpas()["facefuse-worker"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def curve(self, name, points):
        path = self.tmp / f"{name}.csv"
        path.write_text("seconds,rps\n" + "".join(f"{t},{r}\n" for t, r in points))
        return path

    # -- the manifests --------------------------------------------------------------------------

    def test_hpa_numbers_are_the_rendered_ones(self):
        spec, used = self.worker_spec, self.default["rules"]["worker"]
        self.assertEqual(used["min"], spec["minReplicas"])
        self.assertEqual(used["max"], spec["maxReplicas"])
        self.assertEqual([m["name"] for m in used["metrics"]],
                         [m[m["type"][0].lower() + m["type"][1:]]["metric"]["name"]
                          for m in spec["metrics"]])
        up = spec["behavior"]["scaleUp"]
        self.assertEqual(used["up"]["window"], up["stabilizationWindowSeconds"])
        self.assertEqual(used["up"]["select"], up["selectPolicy"])
        self.assertEqual([(p["type"], p["value"], p["period"]) for p in used["up"]["policies"]],
                         [(p["type"], p["value"], p["periodSeconds"]) for p in up["policies"]])
        self.assertEqual(used["down"]["window"],
                         spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"])
        # Through kubectl kustomize too, not only --rendered.
        self.assertEqual(run_json()["rules"]["worker"], used)

    def test_edited_copy_of_the_manifests_changes_the_model(self):
        import yaml
        copy = self.tmp / "k8s"
        shutil.copytree(ROOT / "deploy/k8s", copy)
        hpa_file = copy / "components/autoscale-prometheus/hpa.yaml"
        docs = list(yaml.safe_load_all(hpa_file.read_text()))
        worker = next(d for d in docs if d["metadata"]["name"] == "facefuse-worker")
        worker["spec"]["maxReplicas"] = 9
        worker["spec"]["behavior"]["scaleUp"]["policies"] = [
            {"type": "Pods", "value": 1, "periodSeconds": 60}]
        for m in worker["spec"]["metrics"]:
            if m["type"] == "Pods":
                m["pods"]["target"]["averageValue"] = "1"
        hpa_file.write_text(yaml.safe_dump_all(docs))
        out = run_json("--manifests", copy / "overlays/autoscale-prometheus")
        w = out["rules"]["worker"]
        self.assertEqual(w["max"], 9)
        self.assertEqual(w["up"]["policies"], [{"type": "Pods", "value": 1, "period": 60}])
        self.assertIn(1.0, [m["target"] for m in w["metrics"]])
        self.assertEqual(out["autoscaled"]["workers_max"], 9)
        # Capped at 9 pods (258 tasks/s) the 800 rps peak overflows the queue.
        self.assertGreater(out["autoscaled"]["tasks_rejected_queue_full"], 0)
        self.assertEqual(self.default["autoscaled"]["tasks_rejected_queue_full"], 0)

        # A metric the model does not know is an error that says where to teach it.
        m = worker["spec"]["metrics"][0]
        m[m["type"][0].lower() + m["type"][1:]]["metric"]["name"] = "facefuse_made_up"
        hpa_file.write_text(yaml.safe_dump_all(docs))
        proc = run("--manifests", copy / "overlays/autoscale-prometheus", expect_rc=2)
        self.assertIn("facefuse_made_up", proc.stderr)
        self.assertIn("SIGNALS", proc.stderr)

    # -- the controller -------------------------------------------------------------------------

    def test_replicas_stay_within_min_and_max(self):
        for rows in (self.ramp_rows, self.burst_rows):
            rules = self.default["rules"]
            for r in rows:
                self.assertTrue(rules["worker"]["min"] <= r["workers"] <= rules["worker"]["max"], r)
                self.assertTrue(rules["gateway"]["min"] <= r["gateways"]
                                <= rules["gateway"]["max"], r)
                self.assertLessEqual(r["workers_ready"], r["workers"])

    def test_scale_up_never_exceeds_the_behavior_policies(self):
        up = self.worker_spec["behavior"]["scaleUp"]
        pick = min if up["selectPolicy"] == "Min" else max
        rows = self.burst_rows
        at = {r["t_s"]: r["workers"] for r in rows}
        bound_reached = False
        for r in rows:
            t, n = r["t_s"], r["workers"]
            if n <= at.get(t - 15, n):
                continue
            # The pods at the start of each policy's period bound what the period may add.
            limits = []
            for p in up["policies"]:
                start = at.get(t - p["periodSeconds"])
                if start is None:
                    break
                limits.append(start + p["value"] if p["type"] == "Pods"
                              else math.ceil(start * (1 + p["value"] / 100)))
            else:
                self.assertLessEqual(n, pick(limits), f"t={t}: {at.get(t - 30)} -> {n}")
                bound_reached |= n == pick(limits)
        # The burst must actually hit the limit, or this test checks nothing.
        self.assertTrue(bound_reached, "the burst never reached the scale-up limit")

    def test_scale_down_waits_for_the_stabilization_window(self):
        down = self.worker_spec["behavior"]["scaleDown"]
        window = down["stabilizationWindowSeconds"]
        drop = 2400
        _, rows = run_both(*self.base, "--curve",
                           self.curve("step-down", [(0, 600), (drop, 600), (drop + 1, 10),
                                                    (drop + 1500, 10)]))
        high = next(r["workers"] for r in rows if r["t_s"] == drop)
        first_down = next(r["t_s"] for r in rows if r["workers"] < high)
        self.assertGreaterEqual(first_down, drop + window)
        # ... and then it does shrink, within the window plus the metric's 2-minute average.
        self.assertLessEqual(first_down, drop + window + 120 + 30)
        self.assertEqual(rows[-1]["workers"], self.default["rules"]["worker"]["min"])

        at = {r["t_s"]: r["workers"] for r in rows}
        for i, r in enumerate(rows):
            t, n = r["t_s"], r["workers"]
            if i == 0 or n >= rows[i - 1]["workers"]:
                continue
            # Never below the highest recommendation of the window...
            recent = [x["worker_recommendation"] for x in rows
                      if t - window < x["t_s"] <= t and x["worker_recommendation"] is not None]
            self.assertGreaterEqual(n, max(recent), f"t={t}")
            # ... nor faster than the policies allow per period (25 % a minute here).
            for p in down["policies"]:
                start = at.get(t - p["periodSeconds"])
                if start is not None and p["type"] == "Percent":
                    self.assertGreaterEqual(n, int(start * (1 - p["value"] / 100)), f"t={t}")
                elif start is not None:
                    self.assertGreaterEqual(n, start - p["value"], f"t={t}")

    # -- the queue ------------------------------------------------------------------------------

    def test_constant_load_keeps_the_queue_stable(self):
        _, rows = run_both(*self.base, "--curve", self.curve("flat", [(0, 400), (7200, 400)]))
        settled = [r for r in rows if r["t_s"] >= 1800]
        # Under a second of work waiting at any sync once the pool has grown to the load...
        self.assertLess(max(r["queue"] for r in settled), 400)
        # ... and a pool that stops moving (tolerance keeps it from flapping).
        self.assertLessEqual(len({r["workers"] for r in settled}), 2)
        self.assertEqual(rows[-1]["rejected_total"], 0)

        # A fixed fleet at exactly its capacity: nothing piles up over two hours.
        out = run_json(*self.base, "--fixed-workers", 10,
                       "--curve", self.curve("at-capacity", [(0, 10 * RATE), (7200, 10 * RATE)]))
        self.assertLess(out["fixed"]["queue_max"], 1)
        self.assertLess(out["fixed"]["tasks_still_waiting"], 1)
        self.assertAlmostEqual(out["fixed"]["tasks_served"], 10 * RATE * 7200, delta=10 * RATE)

    def test_overload_beyond_max_replicas_grows_the_queue(self):
        max_pods = self.default["rules"]["worker"]["max"]
        queue_max = self.default["rules"]["queue_max"]
        rps = 10 * max_pods * RATE
        out, out_rows = run_both(*self.base, "--curve",
                                 self.curve("overload", [(0, rps), (1200, rps)]))
        queues = [r["queue"] for r in out_rows]
        self.assertTrue(all(b >= a - 1e-6 for a, b in zip(queues, queues[1:])),
                        "the queue shrank under 10x overload")
        # Full: FACEFUSE_QUEUE_MAX less what the pods took in the last 1 s step.
        self.assertGreaterEqual(queues[-1], queue_max - max_pods * RATE - 1)
        self.assertEqual(out_rows[-1]["workers"], max_pods)
        a = out["autoscaled"]
        self.assertGreater(a["tasks_rejected_queue_full"], 0.8 * a["tasks_offered"])
        # Throughput is capped by the pods, never more than max_pods x the worker rate.
        self.assertLessEqual(a["tasks_served"], max_pods * RATE * 1200 + 1)

    # -- cost and inputs ------------------------------------------------------------------------

    def test_autoscaled_costs_less_than_the_fixed_peak_fleet(self):
        cost = self.default["cost"]
        self.assertLess(cost["autoscaled"], cost["fixed"])
        self.assertGreater(cost["autoscaled"], 0)
        self.assertEqual(self.default["fixed_fleet"]["workers"],
                         math.ceil(800 / (RATE * 1.5 / 2)))

    def test_measurements_are_read_from_loadgen_and_bench_output(self):
        short = ["--curve", self.curve("short", [(0, 10), (60, 10)])]
        lg = self.tmp / "loadgen.json"
        lg.write_text(json.dumps({"processor": "face_swapper", "accepted": 600, "results": {
            "completed": 600, "completed_per_s": 57.4, "elapsed_s": 10.45}}, indent=2))
        out = run_json(*self.base, *short, "--measurement", lg, "--measured-workers", 2)
        self.assertAlmostEqual(out["measurement"]["worker_rate"], 28.7)
        self.assertAlmostEqual(out["measurement"]["task_seconds"], 2 / 28.7)

        # bench/loadgen.sh: both runs between the script's lines; --processor picks one.
        both = self.tmp / "loadgen-sh.txt"
        both.write_text(
            "facefuse loadgen on 2 cores; target 81234 bytes (chris_pratt_2018.jpg)\n\n== noop ==\n"
            "facefuse loadgen: noop, 32 clients, http://127.0.0.1:4242 (target 81234 bytes)\n"
            "  completed           2000 (succeeded: 2000), unfinished 0, in 1.70 s: 1176.0 tasks/s\n"
            "server stopped (SIGTERM), exit status 0\n\n== face_swapper ==\n"
            "facefuse loadgen: face_swapper, 32 clients, http://127.0.0.1:4243 (target 81234 bytes)\n"
            "  completed           60 (succeeded: 60), unfinished 0, in 2.09 s: 28.7 tasks/s\n")
        for processor, rate in (("face_swapper", 28.7), ("noop", 1176.0)):
            out = run_json(*self.base, *short, "--measurement", both, "--processor", processor)
            self.assertAlmostEqual(out["measurement"]["worker_rate"], rate)

        bench = self.tmp / "bench.txt"
        bench.write_text(
            "facefuse bench: 21 runs per size, median ms, 1 thread\n"
            "model load: 510 ms; source face analysis (once per source): 12.7 ms\n\n"
            "target      decode  detect landmrk    warp  colour    mask   blend  encode |  engine   total\n"
            "512x512        0.8    14.9     2.6     0.5     4.9     0.3     0.1     0.7 |    23.4    25.0\n"
            "1920x1080      5.1    14.1     2.9     2.7     6.9     1.8     2.0     4.8 |    30.4    40.3\n")
        out = run_json(*self.base, *short, "--measurement", bench)
        self.assertAlmostEqual(out["measurement"]["task_seconds"], 0.0403)
        self.assertAlmostEqual(out["measurement"]["worker_rate"], 2 / 0.0403)

        lg.write_text(json.dumps({"processor": "noop", "accepted": 10}, indent=2))
        proc = run(*self.base, *short, "--measurement", lg, expect_rc=2)
        self.assertIn("--wait-results", proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
