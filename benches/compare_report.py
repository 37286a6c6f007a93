"""Writes the table of `benches/compare` into a Markdown file between its markers."""

import json
import os
import pathlib
import platform
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- compare:begin -->", "<!-- compare:end -->"


def criterion_us(bench: str) -> float:
    """Median of a criterion bench, in µs."""
    est = ROOT / "target" / "criterion" / bench / "new" / "estimates.json"
    return json.loads(est.read_text())["median"]["point_estimate"] / 1000


def machine() -> str:
    cpu = next((l.split(":", 1)[1].strip() for l in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    mem = next((int(l.split()[1]) // 1024 // 1024 for l in pathlib.Path("/proc/meminfo").read_text().splitlines()
                if l.startswith("MemTotal")), 0)
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{cpu}, {os.cpu_count()} cores, {mem} GiB; {platform.system()} {platform.release()}; "
            f"{rustc}; Python {platform.python_version()}; Node {node}")


def main(out: pathlib.Path, doc: pathlib.Path) -> None:
    py, js = (json.loads((out / f).read_text()) for f in ("python.json", "node.json"))
    mem = json.loads((out / "memory.json").read_text())
    rust = criterion_us("decide_4_fields/memory_store")
    floor = criterion_us("decide_4_fields/raw_cedar_4_is_authorized")
    rows = [("ticketgate `Gate::decide` (Rust, criterion)", rust),
            ("raw Cedar: 4 × `Authorizer::is_authorized`, whole pack, prebuilt entities (criterion)", floor)]
    rows += [(name, us) for name, us in py["decide"] + js["decide"] if "Rust API" not in name]
    lines = ["| one decision, 4 fields (median) | µs | vs ticketgate Rust |", "|---|---:|---:|"]
    lines += [f"| {name} | {us:,.1f} | {us / rust:.2f}x |" for name, us in rows]
    lines += ["", f"ticketgate Rust against the raw-Cedar floor: **{rust / floor:.2f}x** (the two benches above)."]
    paired = re.search(r"paired_with_floor: gate / floor ([0-9.]+) \(median of (\d+) samples",
                       (out / "criterion.txt").read_text())
    if paired:
        lines[-1] += (f" Timed back to back in each of {paired[2]} samples, so that a host's drift"
                      f" falls on both alike: **{float(paired[1]):.2f}x** (median).")
    lines += [""]
    # binding overhead from each script's pairs: its binding's loop, then the Rust API's own
    # loop in the same process
    lines += ["| binding overhead, in turns with the Rust API's loop in the same process (median of 40 pairs) | binding µs | Rust µs | ratio |",
              "|---|---:|---:|---:|"]
    for src in (py, js):
        (binding, b_us), (_, r_us) = src["decide"][0], src["decide"][1]
        lines.append(f"| {binding} | {b_us:,.1f} | {r_us:,.1f} | {src['paired']:.2f}x |")
    lines += [""]
    counted = out / "instructions.json"
    if counted.exists():
        counts = json.loads(counted.read_text())
        lines += ["| binding overhead, instructions per decision (callgrind; `benches/instructions.py`) | instructions | vs Rust |",
                  "|---|---:|---:|"]
        lines += [f"| {name} | {n:,.0f} | {n / counts[0][1]:.2f}x |" for name, n in counts]
        lines += [""]
    lines += ["| 10,000 requests over 50 employees (median) | ms | speed-up |", "|---|---:|---:|"]
    rust_loop = criterion_us("batch_10k/loop_of_decide") / 1000
    rust_many = criterion_us("batch_10k/decide_many") / 1000
    view_loop = criterion_us("batch_10k/loop_of_view") / 1000
    view_many = criterion_us("batch_10k/view_many") / 1000
    batch = [("Rust: loop of `decide`", rust_loop, None), ("Rust: `decide_many`", rust_many, rust_loop),
             ("Rust: loop of `view`", view_loop, None), ("Rust: `view_many`", view_many, view_loop)]
    for src in (py["batch"], js["batch"]):
        # rows come in pairs: a loop of single calls, then the batch call
        for (loop_name, loop_ms), (many_name, many_ms) in zip(src[::2], src[1::2]):
            batch += [(loop_name, loop_ms, None), (many_name, many_ms, loop_ms)]
    lines += [f"| {n} | {ms:,.0f} | {'' if base is None else f'{base / ms:.2f}x'} |" for n, ms, base in batch]
    lines += ["", "| pack size (policies) | `decide` µs | without the plan µs | raw Cedar µs | decide / raw |",
              "|---:|---:|---:|---:|---:|"]
    sizes = sorted(int(p.name) for p in (ROOT / "target" / "criterion" / "pack_size" / "decide").iterdir()
                   if p.name.isdigit())
    series = {b: [criterion_us(f"pack_size/{b}/{n}") for n in sizes]
              for b in ("decide", "decide_without_plan", "raw_cedar_4_is_authorized")}
    for i, n in enumerate(sizes):
        d, w, r = (series[b][i] for b in series)
        lines.append(f"| {n} | {d:,.1f} | {w:,.1f} | {r:,.1f} | {d / r:.2f}x |")
    lines += ["", "Cost against pack size (µs per 4-field decision; lines: `decide`, without the plan, raw Cedar):",
              "", "```mermaid", "xychart-beta", f'    x-axis "policies in the pack" [{", ".join(map(str, sizes))}]',
              '    y-axis "µs per decision"']
    lines += [f"    line [{', '.join(f'{v:.0f}' for v in series[b])}]" for b in series]
    lines += ["```"]
    lines += ["", "| memory | MB |", "|---|---:|",
              f"| gate with the default pack (RSS growth) | {mem['gate_default_pack_mb']:.1f} |",
              f"| memory store, {mem['store_employees']:,} employees × {mem['store_customers_each']} customers (RSS growth) | {mem['store_mb']:.0f} |"]
    lines += [f"| {name} | {mb:.0f} |" for name, mb in py.get("memory", []) + js.get("memory", [])]
    lines += ["", f"Machine: {machine()}. Written by `benches/compare`."]
    text = doc.read_text()
    block = f"{BEGIN}\n" + "\n".join(lines) + f"\n{END}"
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text += "\n" + block + "\n"
    doc.write_text(text)


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))
