#!/usr/bin/env python3
"""The store workloads of bench/bench_store.cc in Python, for each peer:

  lmdb     python3-lmdb + pickle (one named database, as the shelf keeps)
  dumb     shelve over dbm.dumb
  ndbm     shelve over dbm.ndbm (Debian's Python; skipped where missing)
  sqlite   sqlite3, table (key TEXT PRIMARY KEY, value BLOB), WAL journal

Records: key%08d -> {'id': i, 'name': 'x'*20, 'tags': [1, 2, 3]}, pickled
at protocol 5 (the shelf's), built before any timing.

  bulk_put            N puts, one transaction (shelve: N assignments and
                      close(); lmdb opened sync=False as the shelf's bulk
                      load; sqlite synchronous=OFF)
  put_per_txn/full    one durable transaction per put (fsync each commit);
                      shelve has no transactions: not measured
  put_per_txn/nosync  one transaction per put, no fsync
  get_random          every key once in random order, unpickled, in one
                      read transaction where the peer has them
  scan                every record in key order, unpickled

Each workload runs --repeat times; the median per record is kept, in CPU
seconds (time.process_time) and wall seconds.

dbm.dumb gets --dumb-records records (default 20k): it writes and reads
through a file opened per access, and 200k records would take minutes per
repeat; its per-record figures are what is compared.

Usage: python3 py_store.py OUT.json [--records N] [--dumb-records N] [--per-txn N] [--repeat N]
       [--peers lmdb,dumb,ndbm,sqlite] [--tmp DIR]
"""

import argparse
import gc
import json
import os
import pickle
import random
import shutil
import statistics
import sys
import tempfile
import time

PROTOCOL = 5


def key(i):
    return 'key%08d' % i


def record(i):
    return {'id': i, 'name': 'x' * 20, 'tags': [1, 2, 3]}


class Timer:
    def __init__(self):
        self.cpu, self.wall = [], []

    def __enter__(self):
        self.c0 = time.process_time()
        self.w0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.cpu.append(time.process_time() - self.c0)
        self.wall.append(time.perf_counter() - self.w0)

    def result(self, n):
        return {'cpu': statistics.median(self.cpu) / n, 'wall': statistics.median(self.wall) / n,
                'number': n, 'repeat': len(self.cpu)}


# --- peers ---------------------------------------------------------------------
# Each peer: open(path, sync, fresh) -> handle; bulk_put, put_one, get_all(keys), scan, close.

class LmdbPeer:
    name = 'lmdb'

    def __init__(self, path, sync):
        import lmdb
        self.env = lmdb.open(path, map_size=1 << 30, subdir=False, sync=sync, max_dbs=4, lock=True)
        self.db = self.env.open_db(b'records')

    def bulk_put(self, keys, values):
        dumps = pickle.dumps
        with self.env.begin(write=True, db=self.db) as txn:
            put = txn.put
            for k, v in zip(keys, values):
                put(k.encode(), dumps(v, PROTOCOL))

    def put_one(self, k, v):
        with self.env.begin(write=True, db=self.db) as txn:
            txn.put(k.encode(), pickle.dumps(v, PROTOCOL))

    def get_all(self, keys):
        loads = pickle.loads
        with self.env.begin(db=self.db) as txn:
            get = txn.get
            for k in keys:
                loads(get(k.encode()))

    def scan(self):
        loads = pickle.loads
        n = 0
        with self.env.begin(db=self.db) as txn:
            for _, v in txn.cursor():
                loads(v)
                n += 1
        return n

    def close(self):
        self.env.close()


class ShelvePeer:
    def __init__(self, path, sync, module):
        import shelve
        import importlib
        self.module = importlib.import_module(module)
        self.db = shelve.Shelf(self.module.open(path, 'c'), protocol=PROTOCOL)

    def bulk_put(self, keys, values):
        db = self.db
        for k, v in zip(keys, values):
            db[k] = v

    def put_one(self, k, v):
        raise NotImplementedError('shelve has no transactions')

    def get_all(self, keys):
        db = self.db
        for k in keys:
            db[k]

    def scan(self):
        # shelve has no ordered cursor: its keys, sorted, then each record.
        db = self.db
        n = 0
        for k in sorted(db.keys()):
            db[k]
            n += 1
        return n

    def close(self):
        self.db.close()


class DumbPeer(ShelvePeer):
    name = 'dumb'

    def __init__(self, path, sync):
        super().__init__(path, sync, 'dbm.dumb')


class NdbmPeer(ShelvePeer):
    name = 'ndbm'

    def __init__(self, path, sync):
        super().__init__(path, sync, 'dbm.ndbm')


class SqlitePeer:
    name = 'sqlite'

    def __init__(self, path, sync):
        import sqlite3
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute('PRAGMA journal_mode=WAL')
        self.db.execute('PRAGMA synchronous=%s' % ('FULL' if sync else 'OFF'))
        self.db.execute('CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, value BLOB)')

    def bulk_put(self, keys, values):
        dumps = pickle.dumps
        db = self.db
        db.execute('BEGIN')
        for k, v in zip(keys, values):
            db.execute('INSERT OR REPLACE INTO records VALUES (?, ?)', (k, dumps(v, PROTOCOL)))
        db.execute('COMMIT')

    def put_one(self, k, v):
        self.db.execute('INSERT OR REPLACE INTO records VALUES (?, ?)', (k, pickle.dumps(v, PROTOCOL)))

    def get_all(self, keys):
        loads = pickle.loads
        db = self.db
        db.execute('BEGIN')
        for k in keys:
            loads(db.execute('SELECT value FROM records WHERE key = ?', (k,)).fetchone()[0])
        db.execute('COMMIT')

    def scan(self):
        loads = pickle.loads
        n = 0
        for _, v in self.db.execute('SELECT key, value FROM records ORDER BY key'):
            loads(v)
            n += 1
        return n

    def close(self):
        self.db.close()


PEERS = {p.name: p for p in (LmdbPeer, DumbPeer, NdbmPeer, SqlitePeer)}


def available(name):
    try:
        if name == 'lmdb':
            import lmdb  # noqa: F401
        elif name == 'ndbm':
            import dbm.ndbm  # noqa: F401
        return True
    except ImportError as e:
        print('py_store: peer %s unavailable under %s: %s' % (name, sys.executable, e), file=sys.stderr)
        return False


def run_peer(cls, tmp, args):
    n = args.dumb_records if cls.name == 'dumb' else args.records
    keys = [key(i) for i in range(n)]
    values = [record(i) for i in range(n)]
    order = list(range(n))
    random.Random(42).shuffle(order)
    random_keys = [keys[i] for i in order]
    out = {}

    def fresh(tag, sync):
        d = os.path.join(tmp, '%s.%s' % (cls.name, tag))
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return cls(os.path.join(d, 'db'), sync)

    t = Timer()
    for _ in range(args.repeat):
        peer = fresh('bulk', False)
        with t:
            peer.bulk_put(keys, values)
            if cls.name in ('dumb', 'ndbm'):
                peer.close()  # shelve writes its index at close
        if cls.name not in ('dumb', 'ndbm'):
            peer.close()
    out['bulk_put'] = t.result(n)

    if cls.name not in ('dumb', 'ndbm'):
        for mode, sync, count in (('full', True, args.per_txn_durable), ('nosync', False, args.per_txn)):
            peer = fresh('per_txn_' + mode, sync)
            t = Timer()
            for r in range(args.repeat):
                with t:
                    for i in range(count):
                        j = (r * count + i) % n
                        peer.put_one(keys[j], values[j])
            peer.close()
            out['put_per_txn/' + mode] = t.result(count)

    peer = fresh('read', False)
    peer.bulk_put(keys, values)
    peer.close()
    peer = cls(os.path.join(tmp, '%s.read' % cls.name, 'db'), False)
    t = Timer()
    for _ in range(args.repeat):
        with t:
            peer.get_all(random_keys)
    out['get_random'] = t.result(n)
    t = Timer()
    for _ in range(args.repeat):
        with t:
            got = peer.scan()
    assert got == n, (cls.name, got, n)
    out['scan'] = t.result(n)
    peer.close()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--records', type=int, default=200_000)
    ap.add_argument('--dumb-records', type=int, default=20_000,
                    help='records for dbm.dumb, which is too slow for 200k in reasonable time')
    ap.add_argument('--per-txn', type=int, default=20_000)
    ap.add_argument('--per-txn-durable', type=int, default=300)
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--peers', default='lmdb,dumb,ndbm,sqlite')
    ap.add_argument('--tmp', default=None)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix='shelf_py_store.', dir=args.tmp)
    results = {}
    skipped = {}
    counts = {}
    gc.disable()
    try:
        for name in args.peers.split(','):
            if not available(name):
                skipped[name] = 'not importable under ' + sys.executable
                continue
            t0 = time.perf_counter()
            res = run_peer(PEERS[name], tmp, args)
            counts[name] = args.dumb_records if name == 'dumb' else args.records
            for wl, r in res.items():
                results['%s/%s' % (name, wl)] = r
            print('py_store: %-7s done in %.1f s: %s' % (
                name, time.perf_counter() - t0,
                ', '.join('%s %.2f us' % (wl, r['cpu'] * 1e6) for wl, r in res.items())), file=sys.stderr)
            gc.collect()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(args.out, 'w') as f:
        json.dump({'python': sys.executable, 'version': sys.version, 'records': args.records,
                   'results': results, 'skipped': skipped, 'counts': counts}, f, indent=1)


if __name__ == '__main__':
    main()
