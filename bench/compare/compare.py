#!/usr/bin/env python3
"""The comparison command: shelf against CPython's pickle, Python shelve,
SQLite, Python + lmdb and raw LMDB, side by side on this machine.

    python3 bench/compare/compare.py            # from the repository root

It installs the Debian packages that are missing (.ci/install-deps), builds
the benchmarks in Release mode (build-bench/), generates the datasets
(bench/datasets/gen_datasets.py) into the build directory, then runs, in
--rounds rounds, each contender in turn:

  shelf            build-bench/bench/shelf_bench (Google Benchmark, JSON)
  raw LMDB (C)     build-bench/bench/shelf_bench_lmdb: the floor
  _pickle          bench/compare/py_pickle.py under Debian's /usr/bin/python3
                   (3.11, built with PGO) and under pyenv's 3.11
  store peers      bench/compare/py_store.py under Debian's Python: shelve
                   (dbm.dumb, dbm.ndbm), python3-lmdb + pickle, sqlite3

and last the memory target (decoding a ~100 MB pickle under /usr/bin/time -v).
Each contender takes the median of its repeats within a round; the table
takes the median over rounds. It prints one table of ratios (how many times
shelf's throughput is each peer's) and rewrites the generated part of
docs/benchmarks.md and docs/benchmarks.svg.

Times are CPU time of the measuring process (the machine these numbers are
taken on is shared), except for durable commits (fsync), which are wall time.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
HERE = os.path.join(ROOT, 'bench', 'compare')
DEBIAN_PY = '/usr/bin/python3'
PYENV_PY = os.path.expanduser('~/.pyenv/versions/3.11.7/bin/python3')
DATASET_PROTOCOLS = (0, 2, 4, 5)
# decode_borrowed: pickle::loads_borrowing, large payloads pointing into the input.
DATASET_OPS = ('decode', 'decode_borrowed', 'encode')
OP_LABELS = {'decode': 'decode', 'decode_borrowed': 'decode, loads_borrowing', 'encode': 'encode'}
TARGET_PROTOCOLS = (2, 4, 5)

COLUMNS = [
    # key, header
    ('py_debian', '_pickle, Debian 3.11 (PGO)'),
    ('py_pyenv', '_pickle, pyenv 3.11'),
    ('floor', 'raw LMDB (C) / memcpy'),
    ('py_lmdb', 'Python lmdb + pickle'),
    ('dumb', 'shelve dbm.dumb'),
    ('ndbm', 'shelve dbm.ndbm'),
    ('sqlite', 'SQLite (Python)'),
]

STORE_ROWS = [
    # row label, shelf benchmark, floor benchmark, python workload, clock
    ('store bulk_put (200k, 1 txn)', 'store/bulk_put', 'lmdb/bulk_put', 'bulk_put', 'cpu'),
    ('store put_per_txn/full (fsync)', 'store/put_per_txn/full', 'lmdb/put_per_txn/full', 'put_per_txn/full', 'wall'),
    ('store put_per_txn/nosync', 'store/put_per_txn/nosync', 'lmdb/put_per_txn/nosync', 'put_per_txn/nosync', 'cpu'),
    ('store get_random (Txn::get)', 'store/get_random', 'lmdb/get_random', 'get_random', 'cpu'),
    ('store get_random (get_raw + loads)', 'store/get_raw_loads', 'lmdb/get_random', 'get_random', 'cpu'),
    ('store scan (decoded)', 'store/scan', 'lmdb/scan', 'scan', 'cpu'),
]


def log(msg):
    print('compare: ' + msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    log('$ ' + ' '.join(shlex.quote(str(c)) for c in cmd))
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


# --- running the contenders ------------------------------------------------------

def build(build_dir):
    if os.path.exists(os.path.join(ROOT, '.ci', 'install-deps')):
        run(['bash', os.path.join(ROOT, '.ci', 'install-deps')])
    run(['cmake', '-S', ROOT, '-B', build_dir, '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release',
         '-DSHELF_BUILD_TESTS=OFF', '-DSHELF_BUILD_BENCH=ON'], stdout=subprocess.DEVNULL)
    run(['ninja', '-C', build_dir, 'shelf_bench', 'shelf_bench_lmdb', 'shelf_load_file'])


def gbench(binary, out, args, extra):
    # Google Benchmark: medians of --repeat repetitions, console on stderr.
    run([binary, '--benchmark_out=' + out, '--benchmark_out_format=json',
         '--benchmark_repetitions=%d' % args.repeat, '--benchmark_report_aggregates_only=true',
         '--benchmark_min_time=%g' % args.min_time, '--records=%d' % args.records] + extra,
        stdout=sys.stderr)
    results = {}
    for b in json.load(open(out))['benchmarks']:
        if b.get('aggregate_name') != 'median':
            continue
        scale = {'ns': 1e-9, 'us': 1e-6, 'ms': 1e-3, 's': 1.0}[b['time_unit']]
        cpu, wall = b['cpu_time'] * scale, b['real_time'] * scale
        r = {'cpu': cpu, 'wall': wall}
        per_iter = b.get('items_per_iter')
        if per_iter:
            r['item_cpu'] = cpu / per_iter
            r['item_wall'] = wall / per_iter
        if b.get('bytes_per_second'):
            r['bytes_per_second'] = b['bytes_per_second']
        if b.get('label'):
            r['label'] = b['label']
        # UseRealTime() benchmarks carry a /real_time suffix.
        results[b['run_name'].removesuffix('/real_time')] = r
    return results


def py_json(cmd, out):
    run(cmd + [out], stdout=sys.stderr)
    return json.load(open(out))


def one_round(r, args, paths):
    res = {}
    out = paths['out']
    res['shelf'] = gbench(paths['shelf_bench'], os.path.join(out, 'shelf.%d.json' % r), args,
                          ['--data=' + paths['data'], '--tmp=' + paths['tmp']])
    res['floor'] = gbench(paths['shelf_bench_lmdb'], os.path.join(out, 'lmdb.%d.json' % r), args,
                          ['--tmp=' + paths['tmp']])
    for key, py in (('py_debian', DEBIAN_PY), ('py_pyenv', PYENV_PY)):
        if not os.path.exists(py):
            log('%s missing: column %s left empty' % (py, key))
            continue
        d = py_json([py, os.path.join(HERE, 'py_pickle.py'), paths['data'],
                     '--min-time', str(args.min_time), '--repeat', str(args.repeat)],
                    os.path.join(out, '%s.%d.json' % (key, r)))
        res[key] = d['results']
        res[key + '_version'] = d['version'].split()[0]
    store = py_json([DEBIAN_PY, os.path.join(HERE, 'py_store.py'), '--records', str(args.records),
                     '--dumb-records', str(args.dumb_records), '--repeat', str(args.repeat),
                     '--per-txn', str(args.per_txn), '--per-txn-durable', str(args.per_txn_durable),
                     '--tmp', paths['tmp']],
                    os.path.join(out, 'py_store.%d.json' % r))
    res['py_store'] = store['results']
    res['py_store_skipped'] = store.get('skipped', {})
    res['py_store_counts'] = store.get('counts', {})
    return res


def merge_rounds(rounds):
    """Median over rounds of every number, per contender and benchmark."""
    merged = {}
    for contender in ('shelf', 'floor', 'py_debian', 'py_pyenv', 'py_store'):
        per = [r[contender] for r in rounds if contender in r]
        if not per:
            continue
        names = set().union(*[p.keys() for p in per])
        merged[contender] = {}
        for name in names:
            vals = [p[name] for p in per if name in p]
            entry = {}
            for field in vals[0]:
                nums = [v[field] for v in vals if isinstance(v.get(field), (int, float))]
                if nums:
                    entry[field] = statistics.median(nums)
                elif field in vals[0]:
                    entry[field] = vals[0][field]
            merged[contender][name] = entry
    for k in ('py_debian_version', 'py_pyenv_version', 'py_store_skipped', 'py_store_counts'):
        for r in rounds:
            if k in r:
                merged[k] = r[k]
    return merged


def peak_rss(cmd):
    """Peak resident memory of running `cmd`, with /usr/bin/time -v when present."""
    if os.path.exists('/usr/bin/time'):
        p = subprocess.run(['/usr/bin/time', '-v'] + cmd, capture_output=True, text=True, check=True)
        m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', p.stderr)
        return {'peak_rss': int(m.group(1)) * 1024, 'tool': '/usr/bin/time -v', 'stdout': p.stdout.strip()}
    import resource
    # RUSAGE_CHILDREN keeps the largest child so far: run each in a fresh
    # interpreter to read it alone.
    code = ('import resource,subprocess,sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); '
            'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)')
    p = subprocess.run([sys.executable, '-c', code] + cmd, capture_output=True, text=True, check=True)
    return {'peak_rss': int(p.stdout.split()[-1]) * 1024,
            'tool': 'getrusage (install the time package for /usr/bin/time -v)', 'stdout': ''}


MEMORY_FILES = (('big.p5.pickle', '~1.96M small records {id, name, tags}'),
                ('big_strs.p5.pickle', '~970k distinct 100-character str'))


def memory(paths, args):
    """Peak RSS of decoding ~100 MB pickles, shelf and CPython."""
    if not all(os.path.exists(os.path.join(paths['data'], f)) for f, _ in MEMORY_FILES):
        run([sys.executable, os.path.join(ROOT, 'bench', 'datasets', 'gen_datasets.py'), paths['data'], '--big'],
            stdout=sys.stderr)
    out = []
    for fname, desc in MEMORY_FILES:
        big = os.path.join(paths['data'], fname)
        entry = {'file': fname, 'desc': desc, 'size': os.path.getsize(big)}
        cmds = {'shelf': [paths['shelf_load_file'], big],
                'shelf_borrowing': [paths['shelf_load_file'], '--borrow', big],
                'py_debian': [DEBIAN_PY, '-c', 'import pickle,sys; d=open(sys.argv[1],"rb").read(); o=pickle.loads(d)',
                              big]}
        for name, cmd in cmds.items():
            entry[name] = peak_rss(cmd)
            log('memory %s %s: peak RSS %.1f MB for a %.1f MB pickle' % (
                name, fname, entry[name]['peak_rss'] / 1e6, entry['size'] / 1e6))
        out.append(entry)
    return out


# --- the table -----------------------------------------------------------------------

def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def build_table(m, datasets):
    """Rows of (label, shelf seconds per op, {column: ratio}) and the per-protocol summary."""
    shelf = m.get('shelf', {})
    rows, summary = [], {}
    for op in DATASET_OPS:
        for proto in DATASET_PROTOCOLS:
            for name in datasets:
                key = '%s/%s/p%d' % (op, name, proto)
                s = shelf.get(key)
                if not s:
                    continue
                # CPython has one loads(): both decode rows face it.
                peer_key = key.replace('decode_borrowed/', 'decode/')
                cells = {}
                for col in ('py_debian', 'py_pyenv'):
                    peer = m.get(col, {}).get(peer_key)
                    if peer:
                        cells[col] = peer['cpu'] / s['cpu']
                if op == 'decode' and name == 'bytes_1mib' and proto >= 4 and 'memcpy/1MiB' in shelf:
                    cells['floor'] = shelf['memcpy/1MiB']['cpu'] / s['cpu']
                note = ' (!)' if s.get('label') else ''
                # loads_borrowing matters where payloads are large: its row is
                # shown where it is 20% faster or more than loads.
                plain = shelf.get('decode/%s/p%d' % (name, proto))
                if op != 'decode_borrowed' or (plain and plain['cpu'] / s['cpu'] >= 1.2):
                    rows.append(('%s %s p%d%s' % (op, name, proto, note), s['cpu'], cells))
                for col, ratio in cells.items():
                    if col.startswith('py_'):
                        summary.setdefault((op, proto, col), []).append((ratio, name))
    for label, sb, fb, pw, clock in STORE_ROWS:
        s = shelf.get(sb)
        if not s:
            continue
        sv = s['item_' + clock]
        cells = {}
        f = m.get('floor', {}).get(fb)
        if f:
            cells['floor'] = f['item_' + clock] / sv
        for col, peer in (('py_lmdb', 'lmdb'), ('dumb', 'dumb'), ('ndbm', 'ndbm'), ('sqlite', 'sqlite')):
            p = m.get('py_store', {}).get('%s/%s' % (peer, pw))
            if p:
                cells[col] = p[clock] / sv
        rows.append((label + ('' if clock == 'cpu' else ' [wall]'), sv, cells))
    return rows, summary


def fmt_time(s):
    if s is None:
        return ''
    for unit, scale in (('s', 1), ('ms', 1e-3), ('us', 1e-6), ('ns', 1e-9)):
        if s >= scale:
            return '%.3g %s' % (s / scale, unit)
    return '%.3g ns' % (s / 1e-9)


def fmt_ratio(x):
    if x is None:
        return ''
    return '%.2f×' % x if x < 10 else '%.1f×' % x


def summary_rows(summary):
    out = []
    for op in DATASET_OPS:
        for col in ('py_debian', 'py_pyenv'):
            allv = []
            for proto in DATASET_PROTOCOLS:
                vals = summary.get((op, proto, col))
                if not vals:
                    continue
                g = geomean([v for v, _ in vals])
                lo = min(vals)
                out.append((op, col, 'p%d' % proto, g, lo))
                if proto in TARGET_PROTOCOLS:
                    allv += vals
            if allv:
                out.append((op, col, 'p2+p4+p5', geomean([v for v, _ in allv]), min(allv)))
    return out


def targets(m, rows, summary, mem):
    """(target, measured, holds) for every target of the issue."""
    out = []
    sums = {(op, col, p): (g, lo) for op, col, p, g, lo in summary_rows(summary)}
    for op, fn in (('decode', '_pickle.loads'), ('decode_borrowed', '_pickle.loads'), ('encode', '_pickle.dumps')):
        g, lo = sums.get((op, 'py_debian', 'p2+p4+p5'), (None, None))
        if g is None:
            continue
        out.append(('%s ≥ 5× %s (Debian 3.11), geomean p2/p4/p5' % (OP_LABELS[op], fn), fmt_ratio(g), g >= 5))
        out.append(('%s ≥ 3× %s on every dataset, p2/p4/p5' % (OP_LABELS[op], fn),
                    'lowest %s (%s)' % (fmt_ratio(lo[0]), lo[1]), lo[0] >= 3))
    shelf = m.get('shelf', {})
    if 'memcpy/1MiB' in shelf:
        for proto in (4, 5):
            d = shelf.get('decode/bytes_1mib/p%d' % proto)
            if d:
                r = shelf['memcpy/1MiB']['cpu'] / d['cpu']
                out.append(('decode bytes_1mib p%d ≥ 80%% of memcpy bandwidth' % proto, '%.0f%%' % (r * 100), r >= 0.8))
    cells = {label: c for label, _, c in rows}
    g = cells.get('store get_random (Txn::get)', {})
    if 'floor' in g:
        out.append(('store get (with decode) ≥ 80% of raw mdb_get', '%.0f%%' % (g['floor'] * 100), g['floor'] >= 0.8))
    if 'py_lmdb' in g:
        out.append(('store get ≥ 1.5× Python lmdb + pickle', fmt_ratio(g['py_lmdb']), g['py_lmdb'] >= 1.5))
    b = cells.get('store bulk_put (200k, 1 txn)', {})
    if 'floor' in b:
        out.append(('store bulk put (with encode) ≥ 70% of raw mdb_put', '%.0f%%' % (b['floor'] * 100), b['floor'] >= 0.7))
    shelve = [(c.get(col), label, col) for label, _, c in rows if label.startswith('store')
              for col in ('dumb', 'ndbm') if c.get(col)]
    if shelve:
        lo = min(shelve)
        out.append(('store ≥ 20× Python shelve on every workload',
                    'lowest %s (%s, %s)' % (fmt_ratio(lo[0]), lo[1], lo[2]), lo[0] >= 20))
    for e in mem or []:
        for name, how in (('shelf', 'loads'), ('shelf_borrowing', 'loads_borrowing')):
            if name not in e:
                continue
            r = e[name]['peak_rss'] / e['size']
            out.append(('decoding a 100 MB pickle peaks ≤ 2.5× its size in RSS (%s, %s)' % (e['file'], how),
                        '%.2f× (%.0f MB for %.0f MB)' % (r, e[name]['peak_rss'] / 1e6, e['size'] / 1e6), r <= 2.5))
    if 'pickler/reuse' in shelf and 'pickler/fresh' in shelf:
        r = shelf['pickler/fresh']['cpu'] / shelf['pickler/reuse']['cpu']
        out.append(('a reused Pickler is faster than a fresh one per dump (small records)',
                    '%.2f× faster (%s vs %s per record)' % (r, fmt_time(shelf['pickler/reuse']['cpu']),
                                                           fmt_time(shelf['pickler/fresh']['cpu'])), r > 1.05))
    return out


def markdown_table(rows):
    head = '| workload | shelf per op | ' + ' | '.join(h for _, h in COLUMNS) + ' |'
    sep = '|' + '---|' * (len(COLUMNS) + 2)
    lines = [head, sep]
    for label, t, cells in rows:
        lines.append('| %s | %s | %s |' % (label, fmt_time(t), ' | '.join(fmt_ratio(cells.get(k)) for k, _ in COLUMNS)))
    return '\n'.join(lines)


def text_table(rows):
    widths = [max(len(r[0]) for r in rows) + 1, 10] + [max(9, min(len(h), 14)) for _, h in COLUMNS]
    heads = ['workload', 'shelf/op'] + [h[:14] for _, h in COLUMNS]
    out = [' '.join(h.ljust(w) for h, w in zip(heads, widths))]
    for label, t, cells in rows:
        vals = [label, fmt_time(t)] + [fmt_ratio(cells.get(k)) for k, _ in COLUMNS]
        out.append(' '.join(v.ljust(w) for v, w in zip(vals, widths)))
    return '\n'.join(out)


# --- the chart ----------------------------------------------------------------------

def svg_chart(bars, title):
    """A horizontal bar chart of ratios on a log scale; bars: (label, [(series, ratio)])."""
    colors = {'_pickle, Debian 3.11 (PGO)': '#1f77b4', '_pickle, pyenv 3.11': '#aec7e8',
              'raw LMDB (C) / memcpy': '#7f7f7f', 'Python lmdb + pickle': '#2ca02c',
              'shelve dbm.dumb': '#d62728', 'shelve dbm.ndbm': '#ff9896', 'SQLite (Python)': '#9467bd'}
    lo, hi = 0.01, 100.0
    left, width, bar_h, gap = 330, 560, 9, 6
    n_bars = sum(len(s) for _, s in bars)
    height = 70 + n_bars * bar_h + len(bars) * gap + 85

    def x(v):
        v = min(max(v, lo), hi)
        return left + width * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">'
           % (left + width + 60, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="20" font-size="14" font-weight="bold">%s</text>' % title,
           '<text x="10" y="38">shelf throughput ÷ peer throughput (log scale; right of 1× = shelf faster; '
           'red line: the 5× target)</text>']
    top = 55
    for tick in (0.01, 0.03, 0.1, 0.3, 1, 3, 5, 10, 30, 100):
        xx = x(tick)
        dash = '' if tick == 1 else ' stroke-dasharray="3,3"'
        color = '#000' if tick == 1 else ('#c00' if tick == 5 else '#ccc')
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"%s/>' % (xx, top, xx, height - 70, color, dash))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%g×</text>' % (xx, height - 57, tick))
    y = top + 4
    for label, series in bars:
        out.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (left - 6, y + bar_h * len(series) / 2 + 4,
                                                                       label.replace('&', '&amp;')))
        for name, v in series:
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>' % (
                x(lo), y, max(x(v) - x(lo), 1), bar_h - 1, colors.get(name, '#333'), name, fmt_ratio(v)))
            out.append('<text x="%.1f" y="%d" font-size="9">%s</text>' % (x(v) + 3, y + bar_h - 1, fmt_ratio(v)))
            y += bar_h
        y += gap
    for i, (name, color) in enumerate(colors.items()):
        lx, ly = 10 + (i % 4) * 230, height - 40 + (i // 4) * 18
        out.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>' % (lx, ly, color))
        out.append('<text x="%d" y="%d">%s</text>' % (lx + 14, ly + 9, name))
    out.append('</svg>')
    return '\n'.join(out)


def chart_bars(rows, summary):
    names = dict(COLUMNS)
    bars = []
    for op, col, p, g, _ in summary_rows(summary):
        if p == 'p2+p4+p5':
            bars.append(('%s geomean p2/p4/p5 (%s)' % (OP_LABELS[op], 'Debian' if col == 'py_debian' else 'pyenv'),
                         [(names[col], g)]))
    for label, _, cells in rows:
        if label.endswith(' p5') and (label.startswith('decode') or label.startswith('encode')):
            series = [(names[k], cells[k]) for k in ('py_debian', 'floor') if k in cells]
            bars.append((label, series))
        elif label.startswith('store'):
            bars.append((label, [(names[k], cells[k]) for k, _ in COLUMNS if k in cells]))
    return bars


# --- the document ---------------------------------------------------------------------

BEGIN = '<!-- BEGIN generated by bench/compare/compare.py: edits between these markers are overwritten -->'
END = '<!-- END generated -->'


def machine():
    cpu = ''
    for line in open('/proc/cpuinfo'):
        if line.startswith('model name'):
            cpu = line.split(':', 1)[1].strip()
            break
    mem = ''
    for line in open('/proc/meminfo'):
        if line.startswith('MemTotal'):
            mem = '%.1f GiB' % (int(line.split()[1]) / 1024 / 1024)
    load = open('/proc/loadavg').read().split()[:3]
    return {'nproc': os.cpu_count(), 'cpu': cpu, 'memory': mem, 'kernel': platform.release(),
            'load': ' '.join(load)}


def generated_section(m, rows, summary, mem, args, started, elapsed, mach):
    s = []
    s.append('Measured %s UTC in %.0f minutes with `%s` (%d round%s; medians of %d repeats per round, '
             'then the median over rounds).' % (started, elapsed / 60, args.command_line, args.rounds,
                                                 '' if args.rounds == 1 else 's', args.repeat))
    s.append('')
    s.append('**Machine:** %d cores (`nproc`), %s, %s of memory, Linux %s; load average at the end: %s. '
             'The machine is shared with other people building at the same time: expect noise of '
             '10-30%% on any single figure.' % (mach['nproc'], mach['cpu'], mach['memory'], mach['kernel'], mach['load']))
    s.append('')
    s.append('**Peers:** Debian Python %s (`%s`, PGO build) and pyenv Python %s (`%s`) for `_pickle`; '
             'raw LMDB is liblmdb from C++ (`bench/compare/raw_lmdb.cc`); the store peers run under Debian\'s '
             'Python (python3-lmdb, `dbm.dumb`, `dbm.ndbm` = %s, sqlite3).' % (
                 m.get('py_debian_version', '?'), DEBIAN_PY, m.get('py_pyenv_version', '?'), PYENV_PY,
                 ndbm_library()))
    skipped = m.get('py_store_skipped') or {}
    if skipped:
        s.append('Not measured: ' + ', '.join('%s (%s)' % kv for kv in skipped.items()) + '.')
    s.append('')
    s.append('### Ratios')
    s.append('')
    s.append('Each cell is shelf\'s throughput divided by the peer\'s on the same workload: **above 1× shelf '
             'is faster**. Against raw LMDB and memcpy (the floor) it is the fraction of the floor shelf '
             'reaches. "shelf per op" is shelf\'s time for one decode/encode call, or per record for the '
             'store rows. CPU time, except rows marked [wall].')
    s.append('')
    s.append('Summary (geometric mean over the %d datasets, and the lowest ratio):' % len(
        {r[0].split()[1] for r in rows if r[0].startswith('decode')}))
    s.append('')
    s.append('| operation | vs | protocols | geomean | lowest |')
    s.append('|---|---|---|---|---|')
    names = dict(COLUMNS)
    for op, col, p, g, lo in summary_rows(summary):
        s.append('| %s | %s | %s | %s | %s (%s) |' % (OP_LABELS[op], names[col], p, fmt_ratio(g), fmt_ratio(lo[0]), lo[1]))
    s.append('')
    s.append('All rows:')
    s.append('')
    s.append(markdown_table(rows))
    s.append('')
    if any('(!)' in r[0] for r in rows):
        s.append('(!) shelf\'s output differs from CPython\'s bytes for this dataset.')
        s.append('')
    s.append('![ratios](benchmarks.svg)')
    s.append('')
    s.append('### Targets of issue 4')
    s.append('')
    s.append('| target | measured | holds |')
    s.append('|---|---|---|')
    for t, v, ok in targets(m, rows, summary, mem):
        s.append('| %s | %s | %s |' % (t, v, 'yes' if ok else '**no**'))
    s.append('')
    if mem:
        s.append('### Memory')
        s.append('')
        s.append('Peak resident memory of decoding one ~100 MB pickle (protocol 5) in a fresh process; '
                 'shelf maps the file (`shelf_load_file`), so the input pages it reads count too; '
                 'CPython reads it into a bytes object first.')
        s.append('')
        s.append('| pickle | decoder | peak RSS | ÷ pickle size | tool |')
        s.append('|---|---|---|---|---|')
        for e in mem:
            for name, label in (('shelf', 'shelf `loads`'), ('shelf_borrowing', 'shelf `loads_borrowing`'),
                                ('py_debian', 'CPython 3.11 `pickle.loads`')):
                if name in e:
                    s.append('| `%s` (%.1f MB: %s) | %s | %.1f MB | %.2f× | `%s` |' % (
                        e['file'], e['size'] / 1e6, e['desc'], label, e[name]['peak_rss'] / 1e6,
                        e[name]['peak_rss'] / e['size'], e[name]['tool']))
        s.append('')
    s.append('### Commands')
    s.append('')
    s.append('```sh')
    for c in args.commands:
        s.append(c)
    s.append('```')
    return '\n'.join(s)


def ndbm_library():
    try:
        out = subprocess.run([DEBIAN_PY, '-c', 'import dbm.ndbm; print(dbm.ndbm.library)'],
                             capture_output=True, text=True)
        return out.stdout.strip() or 'missing'
    except OSError:
        return 'missing'


def write_doc(section):
    path = os.path.join(ROOT, 'docs', 'benchmarks.md')
    text = open(path).read() if os.path.exists(path) else (
        '# Benchmarks\n\n' + BEGIN + '\n' + END + '\n')
    if BEGIN not in text or END not in text:
        text = text.rstrip('\n') + '\n\n' + BEGIN + '\n' + END + '\n'
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, 'w') as f:
        f.write(head + BEGIN + '\n' + section + '\n' + END + tail)
    log('wrote ' + os.path.relpath(path, ROOT))


# --- main ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build-dir', default=os.path.join(ROOT, 'build-bench'))
    ap.add_argument('--no-build', action='store_true', help='use the binaries already in --build-dir')
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--repeat', type=int, default=3, help='repeats per contender per round')
    ap.add_argument('--min-time', type=float, default=0.1, help='seconds per timed batch')
    ap.add_argument('--records', type=int, default=200_000)
    ap.add_argument('--dumb-records', type=int, default=20_000,
                    help='records of the dbm.dumb workloads (it is slow; per-record figures are compared)')
    ap.add_argument('--per-txn', type=int, default=20_000, help='Python puts per no-sync per-txn run')
    ap.add_argument('--per-txn-durable', type=int, default=300, help='Python puts per durable per-txn run')
    ap.add_argument('--no-memory', action='store_true')
    ap.add_argument('--no-doc', action='store_true', help='print the table only')
    ap.add_argument('--quick', action='store_true', help='1 round, 20k records: a check of the pipeline')
    ap.add_argument('--report-only', action='store_true',
                    help='run nothing: rebuild the table and docs from the last results in --build-dir '
                         '(memory is measured again unless --no-memory)')
    args = ap.parse_args()
    args.command_line = 'python3 bench/compare/compare.py' + ''.join(' ' + a for a in sys.argv[1:])
    if args.quick:
        args.rounds, args.records, args.dumb_records, args.min_time = 1, 20_000, 5_000, 0.05
        args.per_txn, args.per_txn_durable = 2_000, 50

    started = datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M')
    t0 = time.time()
    build_dir = os.path.abspath(args.build_dir)
    if not args.no_build and not args.report_only:
        build(build_dir)
    paths = {
        'shelf_bench': os.path.join(build_dir, 'bench', 'shelf_bench'),
        'shelf_bench_lmdb': os.path.join(build_dir, 'bench', 'shelf_bench_lmdb'),
        'shelf_load_file': os.path.join(build_dir, 'bench', 'shelf_load_file'),
        'data': os.path.join(build_dir, 'bench', 'datasets'),
        'out': os.path.join(build_dir, 'bench', 'results'),
        'tmp': os.path.join(build_dir, 'bench', 'tmp'),
    }
    for d in ('out', 'tmp'):
        os.makedirs(paths[d], exist_ok=True)
    if not args.report_only:
        run([sys.executable, os.path.join(ROOT, 'bench', 'datasets', 'gen_datasets.py'), paths['data']])
    datasets = [line.split('\t')[0] for line in open(os.path.join(paths['data'], 'manifest.tsv'))]

    merged_path = os.path.join(paths['out'], 'merged.json')
    if args.report_only:
        saved = json.load(open(merged_path))
        m = saved['merged']
        info = saved.get('run', {})
        started = info.get('started', started)
        t0 = time.time() - info.get('elapsed', 0)
        for k in ('rounds', 'repeat', 'min_time', 'records', 'dumb_records', 'per_txn', 'per_txn_durable'):
            if k in info:
                setattr(args, k, info[k])
        if 'command_line' in info:
            args.command_line = info['command_line']
        mem = saved.get('memory') if args.no_memory else memory(paths, args)
        if isinstance(mem, dict):
            mem = None  # an older format
    else:
        rounds = []
        for r in range(args.rounds):
            log('round %d of %d' % (r + 1, args.rounds))
            rounds.append(one_round(r, args, paths))
        m = merge_rounds(rounds)
        elapsed = time.time() - t0
        mem = None if args.no_memory else memory(paths, args)
        run_info = {k: getattr(args, k) for k in ('rounds', 'repeat', 'min_time', 'records', 'dumb_records',
                                                  'per_txn', 'per_txn_durable', 'command_line')}
        run_info.update(started=started, elapsed=elapsed)
        with open(merged_path, 'w') as f:
            json.dump({'merged': m, 'memory': mem, 'run': run_info}, f, indent=1)

    rows, summary = build_table(m, datasets)
    print(text_table(rows))
    print()
    for op, col, p, g, lo in summary_rows(summary):
        print('%s vs %-28s %-9s geomean %-8s lowest %s (%s)' % (op, dict(COLUMNS)[col], p, fmt_ratio(g),
                                                               fmt_ratio(lo[0]), lo[1]))
    print()
    for t, v, ok in targets(m, rows, summary, mem):
        print('%-4s %s: %s' % ('ok' if ok else 'MISS', t, v))

    if not args.no_doc:
        def rel(p):
            r = os.path.relpath(p, ROOT)
            return p if r.startswith('..') else r
        g = '%s --min-time %g --repeat %d' % (rel(os.path.join(HERE, 'py_pickle.py')), args.min_time, args.repeat)
        args.commands = [
            args.command_line + '   # all of the below, %d rounds' % args.rounds,
            'bash .ci/install-deps',
            'cmake -S . -B %s -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHELF_BUILD_TESTS=OFF && ninja -C %s shelf_bench shelf_bench_lmdb shelf_load_file'
            % (rel(build_dir), rel(build_dir)),
            'python3 bench/datasets/gen_datasets.py %s' % rel(paths['data']),
            '%s --data=%s --records=%d --benchmark_repetitions=%d --benchmark_min_time=%g --benchmark_out_format=json --benchmark_out=...'
            % (rel(paths['shelf_bench']), rel(paths['data']), args.records, args.repeat, args.min_time),
            '%s --records=%d --benchmark_repetitions=%d --benchmark_min_time=%g ...' % (
                rel(paths['shelf_bench_lmdb']), args.records, args.repeat, args.min_time),
            '%s %s %s OUT.json' % (DEBIAN_PY, g, rel(paths['data'])),
            '%s %s %s OUT.json' % (PYENV_PY.replace(os.path.expanduser('~'), '~'), g, rel(paths['data'])),
            '%s bench/compare/py_store.py OUT.json --records %d --dumb-records %d --repeat %d --per-txn %d --per-txn-durable %d'
            % (DEBIAN_PY, args.records, args.dumb_records, args.repeat, args.per_txn, args.per_txn_durable),
            'python3 bench/datasets/gen_datasets.py %s --big && /usr/bin/time -v %s %s/big.p5.pickle  # and big_strs.p5.pickle' % (
                rel(paths['data']), rel(paths['shelf_load_file']), rel(paths['data'])),
        ]
        elapsed = (json.load(open(merged_path)).get('run') or {}).get('elapsed', time.time() - t0)
        section = generated_section(m, rows, summary, mem, args, started, elapsed, machine())
        write_doc(section)
        svg = svg_chart(chart_bars(rows, summary), 'shelf vs peers (%s)' % started)
        with open(os.path.join(ROOT, 'docs', 'benchmarks.svg'), 'w') as f:
            f.write(svg + '\n')
        log('wrote docs/benchmarks.svg')


if __name__ == '__main__':
    main()
