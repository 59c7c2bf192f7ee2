# Reads a shelf written by shelf (C++) with Python's lmdb module and pickle,
# following persistent references to other records. docs/format.md shows
# this file; tests/store/python_interop_test.cc runs it with Debian's python3.
import pickle
import sys

import lmdb


def open_shelf(path, write=False):
    env = lmdb.open(path, subdir=False, max_dbs=4, readonly=not write, lock=True)
    meta = env.open_db(b"meta", create=False)
    records = env.open_db(b"records", create=False)
    return env, meta, records


class RecordUnpickler(pickle.Unpickler):
    """Loads a record; a persistent id is the key of another record."""

    def __init__(self, data, txn, records, cache):
        import io
        super().__init__(io.BytesIO(data))
        self.txn, self.records, self.cache = txn, records, cache

    def persistent_load(self, key):
        if key not in self.cache:
            data = self.txn.get(key.encode("utf-8"), db=self.records)
            if data is None:
                raise pickle.UnpicklingError("dangling reference to %r" % key)
            self.cache[key] = None  # a cycle back here stays a key
            self.cache[key] = RecordUnpickler(data, self.txn, self.records, self.cache).load()
        return self.cache[key] if self.cache[key] is not None else key


def main(path):
    env, meta, records = open_shelf(path)
    with env.begin() as txn:
        print("format", txn.get(b"format", db=meta).decode())
        for key, data in txn.cursor(db=records):
            key = key.decode("utf-8")
            value = RecordUnpickler(data, txn, records, {key: None}).load()
            print(key, repr(value))


if __name__ == "__main__":
    main(sys.argv[1])
