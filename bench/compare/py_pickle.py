#!/usr/bin/env python3
"""CPython's _pickle on the benchmark datasets: pickle.loads(data) and
pickle.dumps(obj, protocol) for every dataset file of gen_datasets.py,
measured in one warm process, timeit-style: the number of calls per batch
is raised until a batch lasts --min-time, then --repeat batches are timed
and the median taken. As timeit does, the cyclic GC is off while timing.

Both clocks are kept per call: cpu (time.process_time, what the comparison
uses on a shared machine) and wall (time.perf_counter).

Usage: python3 py_pickle.py DATA_DIR OUT.json [--min-time S] [--repeat N]
Writes {"python": ..., "results": {"decode/<name>/p<N>": {"cpu": s, "wall": s}, ...}}.
"""

import argparse
import gc
import json
import os
import pickle
import statistics
import sys
import time


def measure(fn, min_time, repeat):
    number = 1
    while True:
        c0 = time.process_time()
        for _ in range(number):
            fn()
        if time.process_time() - c0 >= min_time / 4 or number >= 1 << 24:
            break
        number *= 2
    # Scale the batch to last about min_time.
    per = max((time.process_time() - c0) / number, 1e-9)
    number = max(1, int(min_time / per))
    cpu, wall = [], []
    for _ in range(repeat):
        c0 = time.process_time()
        w0 = time.perf_counter()
        for _ in range(number):
            fn()
        wall.append((time.perf_counter() - w0) / number)
        cpu.append((time.process_time() - c0) / number)
    return {'cpu': statistics.median(cpu), 'wall': statistics.median(wall),
            'number': number, 'repeat': repeat}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('data')
    ap.add_argument('out')
    ap.add_argument('--min-time', type=float, default=0.2)
    ap.add_argument('--repeat', type=int, default=5)
    ap.add_argument('--filter', default='')
    args = ap.parse_args()

    assert pickle.loads.__module__ == '_pickle', 'the C accelerator is missing'
    names = [line.split('\t')[0] for line in open(os.path.join(args.data, 'manifest.tsv'))]
    results = {}
    loads, dumps = pickle.loads, pickle.dumps
    gc.disable()
    for name in names:
        for proto in (0, 2, 4, 5):
            path = os.path.join(args.data, '%s.p%d.pickle' % (name, proto))
            if not os.path.exists(path):
                continue
            key = '%s/p%d' % (name, proto)
            if args.filter not in key:
                continue
            data = open(path, 'rb').read()
            obj = loads(data)
            results['decode/' + key] = measure(lambda: loads(data), args.min_time, args.repeat)
            results['encode/' + key] = measure(lambda: dumps(obj, proto), args.min_time, args.repeat)
            print('%-28s decode %9.2f us  encode %9.2f us' % (
                key, results['decode/' + key]['cpu'] * 1e6, results['encode/' + key]['cpu'] * 1e6),
                file=sys.stderr)
            del obj
            gc.collect()
    out = {'python': sys.executable, 'version': sys.version, 'results': results}
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=1)


if __name__ == '__main__':
    main()
